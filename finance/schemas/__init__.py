"""The finance API's models, one module per aggregate: receivables, bank products and lines, applications, loans,
supply-chain finance (contract quotes, SME lines), settlement of contracts and the programme's statistics."""
