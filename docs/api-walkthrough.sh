#!/usr/bin/env bash
# The whole flow through the REST API with curl, as the demo accounts of the README:
#   order → matches → intent order → contract → receivable → confirmation → application → risk check (worker)
#   → approval → signed offer → disbursement → repayment → the programme office's figures and audit check.
# Run it against `make run` (web + worker + beat on the demo data):  bash docs/api-walkthrough.sh [BASE_URL]
# Needs curl and jq.  Each run posts a new order and offer, so it can be repeated.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8000}
PASSWORD=${QIANFAN_DEMO_PASSWORD:-qianfan-demo}
TODAY=$(date +%F)
RUN=$(date +%s)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
token() {  # OAuth2 password grant → access token
  curl -sS --fail-with-body -X POST "$BASE/api/v1/auth/token" -d "username=$1" -d "password=$PASSWORD" | jq -r .access_token
}
api() {  # api TOKEN METHOD PATH [curl args…]
  local who=$1 method=$2 path=$3; shift 3
  curl -sS --fail-with-body -X "$method" "$BASE$path" -H "Authorization: Bearer $who" \
    -H 'Content-Type: application/json' "$@"
}

say "log in: large firm, SME, bank reviewer, programme office"
FIRM=$(token demo-firm); SME=$(token demo-sme); BANK=$(token demo-bank); OFFICE=$(token demo-office)
BANK_ID=$(api "$BANK" GET /api/v1/me | jq .organisation.id)
api "$SME" GET /api/v1/me | jq -c '{username, organisation: .organisation.name, kind}'

say "the SME lists a product; the large firm posts an order"
OFFER=$(api "$SME" POST /api/v1/offers -d '{
  "kind": "technology", "title": "政务大数据平台与数据治理系统",
  "description": "数据中台、数据治理、政务数据共享交换", "category": "ict.bigdata",
  "price_min": "1000000.00", "price_max": "8000000.00", "capacity": 5, "keywords": ["数据中台", "数据治理"]}' | jq .id)
ORDER=$(api "$FIRM" POST /api/v1/orders -d '{
  "title": "数字政府大数据平台二期", "description": "区级政务大数据平台：数据中台与数据治理",
  "category": "ict.bigdata", "budget": "5000000.00", "district": "海淀园",
  "deadline": "'"$(date -d '+45 days' +%F)"'"}' | jq .id)
echo "offer $OFFER, order $ORDER"

say "the SME finds the order among its matches; the firm sees the offer ranked for its order"
api "$SME" GET "/api/v1/offers/$OFFER/matches?limit=5" | jq -c '.items[] | {rank, score, order: .item.title}'
api "$FIRM" GET "/api/v1/orders/$ORDER/matches?limit=3" | jq -c '.items[] | {rank, score, offer: .item.title, why}'
api "$SME" POST "/api/v1/offers/$OFFER/interest" -d '{"order_id": '"$ORDER"', "note": "可两周内进场"}' | jq -c '{kind}'
api "$FIRM" POST "/api/v1/orders/$ORDER/shortlist" -d '{"offer_id": '"$OFFER"'}' | jq -c '{kind}'

say "an intent order (意向订单): the firm proposes and signs, the SME signs → a contract"
INTENT=$(api "$FIRM" POST /api/v1/intent-orders -d '{"order_id": '"$ORDER"', "offer_id": '"$OFFER"',
  "amount": "4800000.00", "delivery_due": "'"$(date -d '+30 days' +%F)"'", "terms": "验收后90天付款"}' | jq .id)
api "$SME" POST "/api/v1/intent-orders/$INTENT/sign" | jq -c '{id, status}'
CONTRACT=$(api "$SME" GET "/api/v1/contracts?limit=200" | jq "[.items[] | select(.intent_order_id == $INTENT)][0].id")
echo "contract $CONTRACT"

say "the SME registers the receivable (应收账款); the firm confirms it (确权)"
RECEIVABLE=$(api "$SME" POST /api/v1/receivables -d '{"title": "数字政府大数据平台二期 一期验收款",
  "contract_id": '"$CONTRACT"', "face": "2400000.00", "issue_date": "'"$TODAY"'",
  "due_date": "'"$(date -d '+90 days' +%F)"'"}' | jq .id)
PART=$(api "$FIRM" POST "/api/v1/receivables/$RECEIVABLE/confirm" -d '{"irrevocable_undertaking": true}' \
  | jq '.parts[0].id')
echo "receivable $RECEIVABLE, part $PART"

say "the SME asks how much it can borrow, and applies (Idempotency-Key: a retry returns the same application)"
api "$SME" GET "/api/v1/finance/applications/quote?part_id=$PART&bank_id=$BANK_ID" | jq -c .
APP=$(api "$SME" POST /api/v1/finance/applications -H "Idempotency-Key: walk-apply-$RUN" \
  -d '{"part_id": '"$PART"', "bank_id": '"$BANK_ID"', "amount": "2000000.00"}' | jq .id)
echo "application $APP"

say "the worker runs the automatic risk check"
for _ in $(seq 1 60); do
  STATUS=$(api "$BANK" GET "/api/v1/finance/applications/$APP" | jq -r .status)
  [ "$STATUS" != "submitted" ] && break
  sleep 1
done
echo "status: $STATUS"
api "$BANK" GET "/api/v1/finance/applications/$APP/risk-report" | jq -c '{grade, score, passed}'

say "the bank reviews and approves; the SME signs the offer it was shown; the bank disburses"
api "$BANK" POST "/api/v1/finance/applications/$APP/start-review" | jq -c '{status}'
api "$BANK" POST "/api/v1/finance/applications/$APP/approve" -H "Idempotency-Key: walk-approve-$RUN" \
  -d '{}' | jq -c '{status, approved, annual_rate}'
HASH=$(api "$SME" GET "/api/v1/finance/applications/$APP/offer" | jq -r .terms_hash)
api "$SME" POST "/api/v1/finance/applications/$APP/sign" -H "Idempotency-Key: walk-sign-$RUN" \
  -d '{"terms_hash": "'"$HASH"'"}' | jq -c '{signed_at, terms_hash}'
LOAN=$(api "$BANK" POST "/api/v1/finance/applications/$APP/disburse" -H "Idempotency-Key: walk-disburse-$RUN" | jq .id)
api "$SME" GET "/api/v1/finance/applications/$APP/timeline" | jq -c '{status, sla_status, deadline_at}'

say "the large firm repays what the loan owes"
TOTAL=$(api "$FIRM" GET "/api/v1/loans/$LOAN/schedule" | jq -r .total)
api "$FIRM" POST "/api/v1/loans/$LOAN/repayments" -H "Idempotency-Key: walk-repay-$RUN" \
  -d '{"amount": "'"$TOTAL"'"}' | jq -c '{amount, loan_status}'
api "$OFFICE" GET "/api/v1/loans/$LOAN/ledger" | jq -c '[.[] | {memo, balanced}]'

say "the programme office: figures and the audit chain"
api "$OFFICE" GET /api/v1/stats | jq -c '.total | {orders, intent_orders_signed, receivables_confirmed,
  applications_disbursed, financed_amount, disbursal_hours_p50, disbursed_within_48h_share}'
api "$OFFICE" GET /api/v1/audit/verify | jq -c '{ok, events_checked}'
say "done"
