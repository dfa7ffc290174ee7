"""Hand-written demo content: the programme office, the partner banks, large firms and the six signed programme
projects, the SMEs that fit them, service providers with their packages, and the demo accounts.

Facts (the programme office, the partner banks and the guarantor, the six projects, branch parks, clusters) follow
the programme's published material; every company other than the banks is fictional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEMO_PASSWORD = "qianfan-demo"


@dataclass(frozen=True, slots=True)
class OrgSpec:
    kind: str  # OrgKind value
    name: str
    name_en: str | None
    district: str
    cluster: str | None
    description: str
    #: qualification codes with how their validity stands: "valid", "expiring" (< 60 days left) or "expired"
    qualifications: tuple[tuple[str, str], ...] = ()
    prefix: str = "91"  # credit code registration prefix: 91 company, 11 government body
    admin_code: str | None = None  # overrides the district's admin code (municipal-level registrations)


# --------------------------------------------------------------------- programme office, banks, guarantor

PROGRAMME_OFFICE = OrgSpec(
    kind="programme_office",
    name="中关村科技园区管理委员会",
    name_en="Administrative Committee of Zhongguancun Science Park",
    district="海淀园",
    cluster=None,
    description="千帆计划牵头单位：联合大企业、孵化器和科技服务机构，汇聚订单、服务包与创业导师资源，"
    "并推动基于核心企业确权的应收账款线上融资。",
    prefix="11",
    admin_code="110000",
)

_BANK_NOTE = "千帆计划金融服务专区合作银行，为平台撮合的交易提供基于核心企业确权的应收账款线上融资。"

BANKS: tuple[OrgSpec, ...] = (
    OrgSpec(
        "bank",
        "国家开发银行北京分行",
        "China Development Bank, Beijing Branch",
        "西城园",
        None,
        "政策性金融机构在京分行；" + _BANK_NOTE,
        admin_code="110000",
    ),
    OrgSpec(
        "bank",
        "中国工商银行北京分行",
        "Industrial and Commercial Bank of China, Beijing Branch",
        "西城园",
        None,
        _BANK_NOTE,
        admin_code="110000",
    ),
    OrgSpec(
        "bank",
        "中国农业银行北京分行",
        "Agricultural Bank of China, Beijing Branch",
        "东城园",
        None,
        _BANK_NOTE,
        admin_code="110000",
    ),
    OrgSpec(
        "bank", "中国银行北京分行", "Bank of China, Beijing Branch", "西城园", None, _BANK_NOTE, admin_code="110000"
    ),
    OrgSpec(
        "bank",
        "中国建设银行北京分行",
        "China Construction Bank, Beijing Branch",
        "西城园",
        None,
        _BANK_NOTE,
        admin_code="110000",
    ),
    OrgSpec(
        "bank",
        "北京银行",
        "Bank of Beijing",
        "西城园",
        None,
        "总部位于北京的城市商业银行；" + _BANK_NOTE,
        admin_code="110000",
    ),
    OrgSpec(
        "bank",
        "北京中关村银行",
        "Beijing Zhongguancun Bank",
        "海淀园",
        None,
        "服务科技创新企业的民营银行；" + _BANK_NOTE + "演示账号所在银行。",
        admin_code="110000",
    ),
)

#: The guarantor is registered as a *service provider*, not a bank: it lends nothing and the programme's receivables
#: finance needs no guarantee, so it must never appear among the lenders an SME applies to or review applications.
#: It was one of the programme's eight partner financial institutions, so it publishes a guarantee service package
#: that SMEs can take up for ordinary (non-receivable) credit.
GUARANTOR = OrgSpec(
    "service_provider",
    "中关村科技融资担保有限公司",
    "Zhongguancun Sci-tech Financing Guarantee Co., Ltd.",
    "海淀园",
    "services",
    "服务中关村科技型中小企业的融资担保机构，千帆计划合作金融机构之一，提供科技信贷担保与融资对接服务。",
    admin_code="110000",
)

# --------------------------------------------------------------------- large firms


@dataclass(frozen=True, slots=True)
class FirmSpec:
    org: OrgSpec
    buys: tuple[str, ...]  # categories its generated orders come from
    orders: int = 3  # how many generated orders
    invests: bool = False  # also posts investment / merger needs


def _firm(
    name: str, en: str, district: str, cluster: str, description: str, buys: str, orders: int = 3, invests: bool = False
) -> FirmSpec:
    return FirmSpec(
        OrgSpec("large_firm", name, en, district, cluster, description, (("hnte", "valid"),)),
        tuple(buys.split()),
        orders,
        invests,
    )


LARGE_FIRMS: tuple[FirmSpec, ...] = (
    _firm(
        "北京京华数智城市科技集团有限公司",
        "Beijing Jinghua Digital City Technology Group Co., Ltd.",
        "海淀园",
        "ict",
        "城市数字化综合服务商，承建多个区级政务云、城市运行管理中心与数据共享平台，带动上下游软件企业协同交付。",
        "ict.egov ict.bigdata ict.security ai.nlp",
        4,
    ),
    _firm(
        "北京燕都智造集团股份有限公司",
        "Beijing Yandu Intelligent Manufacturing Group Co., Ltd.",
        "亦庄园",
        "mfg",
        "以高端装备与汽车零部件为主业的制造集团，正推进集团及三百余家配套企业的数字化转型。",
        "ict.iiot mfg.automation mfg.equipment ai.cv",
        4,
    ),
    _firm(
        "北京云岭数据科技集团有限公司",
        "Beijing Yunling Data Technology Group Co., Ltd.",
        "顺义园",
        "ict",
        "数据中心与云基础设施运营商，在顺义、亦庄运营多个绿色数据中心，面向制造企业提供工业云资源。",
        "ict.cloud ai.compute green.grid ict.security",
        3,
    ),
    _firm(
        "北京通衢路桥建设集团有限公司",
        "Beijing Tongqu Road and Bridge Construction Group Co., Ltd.",
        "丰台园",
        "transport",
        "城市道路与桥梁建设养护企业，负责千余公里城市道路的日常养护与设施管理。",
        "transport.road mfg.inspection aerospace.uav transport.its",
        3,
    ),
    _firm(
        "北京颐康养老产业集团有限公司",
        "Beijing Yikang Elderly Care Industry Group Co., Ltd.",
        "朝阳园",
        "health",
        "运营养老机构、街道养老驿站与居家养老服务网络的综合养老服务集团。",
        "health.digital health.device ai.robotics",
        3,
    ),
    _firm(
        "北京嘉泰商业置业集团有限公司",
        "Beijing Jiatai Commercial Property Group Co., Ltd.",
        "西城园",
        "green",
        "持有并运营商业综合体与甲级写字楼的不动产集团，推进楼宇低碳节能改造。",
        "green.hvac green.grid ict.iot",
        3,
    ),
    _firm(
        "北京瑞和医药集团有限公司",
        "Beijing Ruihe Pharmaceutical Group Co., Ltd.",
        "大兴生物医药产业基地",
        "health",
        "化学药与生物药研发生产企业，围绕创新药管线开放临床前研究与工艺开发合作。",
        "health.drug health.bio services.rnd mfg.automation",
        4,
        True,
    ),
    _firm(
        "北京康铂医疗设备集团有限公司",
        "Beijing Kangbo Medical Equipment Group Co., Ltd.",
        "昌平园",
        "health",
        "医学影像与体外诊断设备制造商，寻求核心部件国产化与智能化升级伙伴。",
        "health.device mfg.additive ai.cv services.rnd",
        3,
        True,
    ),
    _firm(
        "北京驰远汽车集团有限公司",
        "Beijing Chiyuan Automotive Group Co., Ltd.",
        "顺义园",
        "transport",
        "新能源整车与零部件企业，布局智能网联与车规级芯片国产化。",
        "transport.ev materials.semiconductor ict.ic mfg.automation",
        4,
        True,
    ),
    _firm(
        "北京天衡航天科技集团有限公司",
        "Beijing Tianheng Aerospace Technology Group Co., Ltd.",
        "亦庄园",
        "aerospace",
        "商业航天总体企业，从事运载火箭与卫星星座研制，开放配套部件与测控服务需求。",
        "aerospace.launch aerospace.satellite materials.advanced mfg.additive",
        3,
        True,
    ),
    _firm(
        "北京钧石新材料集团有限公司",
        "Beijing Junshi New Materials Group Co., Ltd.",
        "房山园",
        "materials",
        "先进基础材料与碳材料生产企业，推进绿色工厂与新材料应用开发。",
        "materials.graphene materials.advanced green.env",
        3,
        True,
    ),
    _firm(
        "北京燕能电力集团有限公司",
        "Beijing Yanneng Electric Power Group Co., Ltd.",
        "通州园",
        "green",
        "区域电力与综合能源服务企业，建设储能、微电网与智能巡检体系。",
        "green.grid ai.robotics aerospace.uav ict.iot",
        3,
    ),
    _firm(
        "北京京畿轨道交通集团有限公司",
        "Beijing Jingji Rail Transit Group Co., Ltd.",
        "丰台园",
        "transport",
        "城市轨道交通建设与运维企业，推进线路智能运维与专网通信升级。",
        "transport.road ict.5g mfg.inspection ai.robotics",
        3,
    ),
    _firm(
        "北京泛联通信集团有限公司",
        "Beijing Fanlian Communications Group Co., Ltd.",
        "朝阳园",
        "ict",
        "通信网络建设与行业专网服务商，面向工业与园区提供5G专网解决方案。",
        "ict.5g ict.iot ict.ic ict.security",
        3,
    ),
    _firm(
        "北京融泰金融控股集团有限公司",
        "Beijing Rongtai Financial Holdings Group Co., Ltd.",
        "西城园",
        "services",
        "综合金融服务集团，建设供应链金融与智能风控能力。",
        "services.fintech ict.security ai.nlp ict.blockchain",
        3,
        True,
    ),
    _firm(
        "北京数衡人工智能集团有限公司",
        "Beijing Shuheng Artificial Intelligence Group Co., Ltd.",
        "海淀园",
        "ai",
        "人工智能平台企业，建设智算中心并开放行业大模型应用合作。",
        "ai.compute ai.nlp ai.cv ict.cloud",
        4,
        True,
    ),
    _firm(
        "北京芯承半导体集团股份有限公司",
        "Beijing Xincheng Semiconductor Group Co., Ltd.",
        "亦庄园",
        "ict",
        "集成电路制造与封测企业，推进装备与材料国产化替代。",
        "ict.ic materials.semiconductor mfg.equipment services.rnd",
        3,
        True,
    ),
    _firm(
        "北京碧澄环境集团有限公司",
        "Beijing Bicheng Environment Group Co., Ltd.",
        "密云园",
        "green",
        "生态环境治理与环保设施运营企业，服务京郊水源保护与城镇污水治理。",
        "green.env ict.iot aerospace.satellite",
        3,
    ),
    _firm(
        "北京筑远建设工程集团有限公司",
        "Beijing Zhuyuan Construction Engineering Group Co., Ltd.",
        "石景山园",
        "green",
        "建筑工程总承包企业，推进智能建造、建筑节能与数字化交付。",
        "green.hvac ict.xr mfg.inspection green.grid",
        3,
    ),
    _firm(
        "北京沐川科创产业投资集团有限公司",
        "Beijing Muchuan Sci-tech Industrial Investment Group Co., Ltd.",
        "海淀园",
        "services",
        "聚焦硬科技的产业投资集团，管理多支早期与成长期基金，开展产业并购整合。",
        "ai.robotics ict.ic health.bio aerospace.satellite green.hydrogen materials.semiconductor",
        2,
        True,
    ),
    _firm(
        "北京翼云低空科技集团有限公司",
        "Beijing Yiyun Low-Altitude Technology Group Co., Ltd.",
        "延庆园",
        "aerospace",
        "低空经济运营企业，建设无人机起降场与低空飞行服务网络。",
        "aerospace.uav ict.5g ai.cv",
        3,
    ),
    _firm(
        "北京仁和医院管理集团有限公司",
        "Beijing Renhe Hospital Management Group Co., Ltd.",
        "东城园",
        "health",
        "运营多家综合医院与康复医院的医疗集团，推进智慧医院与互联网医院建设。",
        "health.device health.digital ai.nlp services.hr",
        3,
    ),
    _firm(
        "北京清泉水务集团有限公司",
        "Beijing Qingquan Water Group Co., Ltd.",
        "门头沟园",
        "green",
        "供水与污水处理运营企业，推进管网物联感知与智慧水务。",
        "green.env ict.iot ict.iiot",
        3,
    ),
    _firm(
        "北京华坤智能装备集团有限公司",
        "Beijing Huakun Intelligent Equipment Group Co., Ltd.",
        "昌平园",
        "mfg",
        "智能装备制造企业，产品覆盖数控机床、工业机器人与自动化产线。",
        "mfg.equipment mfg.automation ai.robotics materials.advanced",
        3,
        True,
    ),
    _firm(
        "北京畅达物流集团有限公司",
        "Beijing Changda Logistics Group Co., Ltd.",
        "平谷园",
        "transport",
        "综合物流企业，运营冷链与城市配送网络，推进无人配送与智能仓储。",
        "transport.ev ai.robotics ict.iot aerospace.uav",
        3,
    ),
    _firm(
        "北京怀瑞科学仪器集团有限公司",
        "Beijing Huairui Scientific Instruments Group Co., Ltd.",
        "怀柔园",
        "services",
        "科学仪器研发制造企业，依托怀柔科学城开放大型仪器与检测服务。",
        "services.rnd ict.ic health.bio",
        3,
    ),
)

DEMO_FIRM = LARGE_FIRMS[0].org.name

# --------------------------------------------------------------------- the six signed programme projects


@dataclass(frozen=True, slots=True)
class OrderSpec:
    firm: str  # buyer name
    title: str
    category: str
    budget: str  # yuan
    district: str
    deadline_days: int  # from today
    required_qualifications: tuple[str, ...]
    description: str


PROGRAMME_ORDERS: tuple[OrderSpec, ...] = (
    OrderSpec(
        "北京京华数智城市科技集团有限公司",
        "数字政府大数据平台项目",
        "ict.egov",
        "28600000.00",
        "海淀园",
        45,
        ("hnte", "iso27001", "mlps3"),
        "为区级数字政府建设统一的大数据底座：汇聚人口、法人、空间地理、电子证照四大基础库及四十余个委办局的业务数据，"
        "建设数据汇聚、治理、共享交换与开放平台，支撑一网通办、接诉即办与城市运行监测。项目分数据中台、数据治理、"
        "共享交换、安全防护四个标段，欢迎中小企业按标段参与。要求：可在信创环境部署；通过网络安全等级保护三级测评；"
        "具备区级以上政务大数据项目实施经验。",
    ),
    OrderSpec(
        "北京燕都智造集团股份有限公司",
        "工业云PaaS平台项目",
        "ict.iiot",
        "12500000.00",
        "亦庄园",
        40,
        ("hnte", "cmmi3"),
        "面向集团及上下游三百余家配套企业建设工业云PaaS平台：提供设备接入与边缘计算、工业数据建模、微服务与容器运行环境、"
        "低代码工业APP开发工具，首批上线设备远程运维、能耗管理、质量追溯等十个工业APP。要求兼容国产操作系统与数据库，"
        "支持多租户隔离，平台能力以开放API提供。",
    ),
    OrderSpec(
        "北京云岭数据科技集团有限公司",
        "工业云IaaS平台项目",
        "ict.cloud",
        "18800000.00",
        "顺义园",
        50,
        ("hnte", "iso27001", "mlps3"),
        "建设面向制造企业的工业云基础设施资源池：计算节点不少于200台，分布式存储容量不低于5PB，支持x86与国产ARM混合架构、"
        "同城双活与多云统一纳管；资源池通过等保三级测评后，向园区企业提供弹性云主机、对象存储与灾备服务。",
    ),
    OrderSpec(
        "北京通衢路桥建设集团有限公司",
        "智慧道路巡检系统项目",
        "transport.road",
        "6800000.00",
        "丰台园",
        35,
        ("hnte", "iso9001"),
        "对所辖约1,200公里城市道路开展智慧化巡检：巡检车辆加装高清视频与AI识别终端，自动识别坑槽、裂缝、井盖缺失、"
        "路面积水等病害，并与城市管理网格化平台对接，实现自动派单与闭环处置；同步建设道路资产一张图与养护决策分析系统。",
    ),
    OrderSpec(
        "北京颐康养老产业集团有限公司",
        "智慧城市养老数字化平台项目",
        "health.digital",
        "4500000.00",
        "朝阳园",
        40,
        ("hnte", "mlps3"),
        "建设覆盖养老机构、街道养老驿站与居家老人的养老服务数字化平台：老人能力评估与健康档案、服务工单派发与监管、"
        "养老补贴结算、居家安全监测（跌倒检测、紧急呼叫）终端接入，并与民政、卫健部门数据对接。首期服务老人约3万人。",
    ),
    OrderSpec(
        "北京嘉泰商业置业集团有限公司",
        "中央空调智慧能源技术节能项目",
        "green.hvac",
        "9600000.00",
        "西城园",
        30,
        ("hnte", "emc"),
        "对集团旗下6座商业综合体及写字楼（总建筑面积约58万平方米）的中央空调系统实施智慧节能改造：冷站群控与AI寻优控制、"
        "水泵变频改造、能耗分项计量与能效管理平台。采用合同能源管理模式，要求综合节能率不低于20%，"
        "节能量经第三方测量与验证。",
    ),
)
PROGRAMME_TITLES: tuple[str, ...] = tuple(p.title for p in PROGRAMME_ORDERS)

#: Further hand-written orders the demo story needs (a second contract for the demo SME with another core
#: enterprise, and an intent order waiting for the demo firm's signature).
EXTRA_ORDERS: tuple[OrderSpec, ...] = (
    OrderSpec(
        "北京京华数智城市科技集团有限公司",
        "接诉即办智能分析系统建设项目",
        "ict.egov",
        "3800000.00",
        "海淀园",
        60,
        ("hnte",),
        "围绕12345市民服务热线工单建设智能分析系统：工单自动分类与派单推荐、热点与高频诉求识别、未诉先办预警，"
        "并为街乡提供考核排名与专题分析报告。系统部署于政务云，需与现有热线系统对接。",
    ),
    OrderSpec(
        "北京融泰金融控股集团有限公司",
        "集团数据治理平台建设项目",
        "ict.bigdata",
        "3200000.00",
        "西城园",
        50,
        ("hnte", "iso27001"),
        "建设覆盖集团及六家子公司的数据治理平台：统一数据标准与主数据，建立数据质量稽核与问题整改机制，"
        "梳理数据资产目录并支撑监管报送。要求支持私有化部署，具备金融行业数据治理案例。",
    ),
)

# --------------------------------------------------------------------- SMEs that fit the programme projects


@dataclass(frozen=True, slots=True)
class OfferSpec:
    kind: str
    title: str
    category: str
    price_min: str
    price_max: str
    capacity: int
    qualifications: tuple[str, ...]
    keywords: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class AnchorSme:
    org: OrgSpec
    offers: tuple[OfferSpec, ...]


def _sme(
    name: str, en: str, district: str, cluster: str, description: str, quals: str, offers: list[OfferSpec]
) -> AnchorSme:
    q = tuple((c.split(":")[0], c.split(":")[1] if ":" in c else "valid") for c in quals.split())
    return AnchorSme(OrgSpec("sme", name, en, district, cluster, description, q), tuple(offers))


def _o(kind: str, title: str, cat: str, lo: str, hi: str, cap: int, quals: str, kws: str, desc: str) -> OfferSpec:
    return OfferSpec(kind, title, cat, lo, hi, cap, tuple(quals.split()), tuple(kws.split()), desc)


ANCHOR_SMES: tuple[AnchorSme, ...] = (
    _sme(
        "北京数帆智汇科技有限公司",
        "Beijing Shufan Zhihui Technology Co., Ltd.",
        "海淀园",
        "ict",
        "专注政务大数据与数据治理的国家高新技术企业、专精特新中小企业，核心团队来自高校数据库实验室，"
        "产品已在多个区级数字政府项目中落地。",
        "hnte zgc_hnte zjtx iso9001 iso27001 mlps3 cmmi3 itss",
        [
            _o(
                "product",
                "数帆政务大数据中台 V5",
                "ict.bigdata",
                "1200000.00",
                "6800000.00",
                8,
                "hnte iso27001 mlps3 cmmi3",
                "数字政府 政务大数据 数据中台 数据治理 信创",
                "面向区级数字政府的一体化数据底座：汇聚人口、法人、电子证照、空间地理等基础库与委办局业务数据，"
                "提供数据采集、治理、共享交换与开放全流程能力。已完成鲲鹏、海光服务器与达梦、人大金仓数据库适配，"
                "通过网络安全等级保护三级测评，在多个区级政务数据项目中稳定运行。",
            ),
            _o(
                "product",
                "数帆数据治理平台",
                "ict.bigdata",
                "600000.00",
                "2500000.00",
                12,
                "hnte iso27001 cmmi3",
                "数据治理 数据标准 数据质量 元数据 大数据",
                "覆盖数据标准、质量稽核、元数据与血缘管理的一站式治理平台，内置政务数据元标准与三百余条质量规则，"
                "问题数据自动发现、分派整改并跟踪闭环，治理成效以报表量化呈现。",
            ),
            _o(
                "product",
                "政务数据共享交换平台",
                "ict.bigdata",
                "800000.00",
                "3200000.00",
                10,
                "hnte mlps3 iso27001",
                "数据共享 共享交换 政务数据 数字政府 大数据",
                "对接国家、市、区三级共享交换体系，支持库表、接口、文件多种共享方式；共享目录编制、申请审批、"
                "使用登记与调用追溯全流程在线，支持数据沙箱与可用不可见的受控共享。",
            ),
            _o(
                "service",
                "接诉即办数据分析服务",
                "ict.egov",
                "300000.00",
                "1200000.00",
                20,
                "hnte",
                "接诉即办 12345 热点分析 数字政府 政务",
                "基于12345热线工单的文本挖掘与热点诉求识别服务：按街乡、行业、诉求类型多维分析，识别高频与反复诉求，"
                "提供未诉先办预警与月度分析报告，数据在政务外网内处理，不出域。",
            ),
            _o(
                "product",
                "政务数据安全分级分类与脱敏系统",
                "ict.security",
                "450000.00",
                "1800000.00",
                15,
                "hnte mlps3 iso27001",
                "数据安全 分级分类 脱敏 等保 政务数据",
                "自动识别身份证号、手机号、地址等敏感字段并给出分级分类建议，支持静态与动态脱敏、数字水印与泄露溯源，"
                "满足数据安全法与等保三级对政务数据的保护要求。",
            ),
            _o(
                "service",
                "数据资产入表咨询服务",
                "ict.bigdata",
                "200000.00",
                "800000.00",
                25,
                "hnte",
                "数据资产 入表 数据治理 咨询 大数据",
                "协助企业完成数据资源盘点、确权与成本归集，出具数据资产入表方案，并对接会计师事务所与数据交易所完成登记。",
            ),
        ],
    ),
    _sme(
        "北京澄观数据技术有限公司",
        "Beijing Chengguan Data Technology Co., Ltd.",
        "海淀园",
        "ict",
        "提供城市数据湖与可视化分析产品的数据技术企业。",
        "hnte zgc_hnte cmmi3 iso27001:expired",
        [
            _o(
                "product",
                "澄观城市数据湖平台",
                "ict.bigdata",
                "900000.00",
                "4000000.00",
                6,
                "hnte cmmi3",
                "数据湖 大数据 城市数据 湖仓一体",
                "基于湖仓一体架构的城市数据湖，支持结构化、半结构化与视频图片等非结构化数据统一存储与计算，"
                "提供面向城市运行指标的主题数据集。",
            ),
            _o(
                "product",
                "澄观BI可视化分析平台",
                "ict.bigdata",
                "150000.00",
                "600000.00",
                30,
                "hnte",
                "BI 可视化 大屏 数据分析 大数据",
                "拖拽式自助分析与数据大屏设计工具，内置政务、园区、企业经营等两百余个分析模板，支持移动端查看。",
            ),
            _o(
                "service",
                "政务数据治理实施服务",
                "ict.bigdata",
                "300000.00",
                "1500000.00",
                10,
                "hnte",
                "数据治理 实施 政务数据 大数据",
                "提供数据资源普查、目录编制、标准制定与质量整改的驻场实施服务，团队具有十余个政务数据项目经验。",
            ),
        ],
    ),
    _sme(
        "北京工擎云科技有限公司",
        "Beijing Gongqing Cloud Technology Co., Ltd.",
        "亦庄园",
        "ict",
        "工业互联网平台企业，为装备制造与汽车零部件企业提供设备上云与工业APP。",
        "hnte zjtx cmmi3 iso9001 iso27001",
        [
            _o(
                "product",
                "工擎工业云PaaS平台 V3.0",
                "ict.iiot",
                "1500000.00",
                "6000000.00",
                6,
                "hnte cmmi3 iso27001",
                "工业云 PaaS 工业互联网 低代码 微服务",
                "面向制造集团及其配套企业的工业云PaaS平台：设备接入与边缘计算、工业数据建模、微服务与容器运行环境、"
                "低代码工业APP开发工具一体提供，支持多租户隔离，兼容麒麟、统信操作系统与国产数据库。",
            ),
            _o(
                "product",
                "工擎工业APP低代码开发平台",
                "ict.iiot",
                "400000.00",
                "1600000.00",
                15,
                "hnte cmmi3",
                "工业APP 低代码 工业互联网 工业云",
                "拖拽式搭建设备点检、能耗管理、质量追溯等工业APP，内置五十余个行业模板，开发周期由数月缩短至数周。",
            ),
            _o(
                "product",
                "工擎多协议设备联网网关",
                "ict.iiot",
                "8000.00",
                "30000.00",
                2000,
                "hnte iso9001",
                "设备上云 工业网关 边缘计算 工业互联网",
                "支持Modbus、OPC UA、西门子S7等百余种协议的边缘网关，断网续传，免编程配置即可完成设备数据上云。",
            ),
            _o(
                "service",
                "工擎设备上云实施服务",
                "ict.iiot",
                "100000.00",
                "800000.00",
                30,
                "hnte",
                "设备上云 实施 工业互联网 数字化转型",
                "为中小制造企业提供设备联网评估、网关部署、数据建模与看板上线的一站式实施服务，可对接上云补贴政策。",
            ),
        ],
    ),
    _sme(
        "北京算岳云计算技术有限公司",
        "Beijing Suanyue Cloud Computing Technology Co., Ltd.",
        "顺义园",
        "ict",
        "私有云与超融合基础设施提供商，服务制造、政务与金融行业。",
        "hnte zgc_hnte iso27001 mlps3 itss iso9001",
        [
            _o(
                "product",
                "算岳私有云IaaS平台",
                "ict.cloud",
                "2000000.00",
                "9000000.00",
                5,
                "hnte iso27001 mlps3 itss",
                "IaaS 私有云 云计算 工业云 信创",
                "计算、存储、网络资源池化的私有云平台，支持x86与国产ARM混合部署、同城双活与多云统一纳管，"
                "已通过等保三级测评，适合建设面向园区企业的工业云资源池。",
            ),
            _o(
                "product",
                "算岳超融合一体机",
                "ict.cloud",
                "300000.00",
                "1200000.00",
                60,
                "hnte iso27001",
                "超融合 云计算 IaaS 一体机",
                "计算与分布式存储融合的一体化设备，三节点起步、按需横向扩展，开箱一小时完成部署。",
            ),
            _o(
                "product",
                "算岳分布式存储系统",
                "ict.cloud",
                "500000.00",
                "3000000.00",
                20,
                "hnte iso27001",
                "分布式存储 对象存储 云计算 IaaS",
                "支持块、文件、对象三种存储服务的软件定义存储，单集群容量可扩展至数十PB，支持纠删码与异地复制。",
            ),
            _o(
                "service",
                "算岳云资源托管运维服务",
                "ict.cloud",
                "200000.00",
                "1000000.00",
                15,
                "hnte itss",
                "云运维 托管 IaaS 云计算",
                "按ITSS标准提供云平台7×24小时监控、巡检、容量规划与故障处置，按年度订阅。",
            ),
        ],
    ),
    _sme(
        "北京路眸智能科技有限公司",
        "Beijing Lumou Intelligent Technology Co., Ltd.",
        "丰台园",
        "transport",
        "城市道路智慧巡检企业，以车载AI识别为核心，为道路养护单位提供巡检系统与数据服务。",
        "hnte zjtx zgc_hnte iso9001",
        [
            _o(
                "product",
                "路眸智慧道路巡检系统",
                "transport.road",
                "800000.00",
                "4500000.00",
                10,
                "hnte iso9001",
                "道路巡检 智慧道路 病害识别 养护 AI",
                "巡检车辆加装高清视频与AI识别终端，在正常车速下自动识别坑槽、裂缝、井盖缺失、路面积水等二十余类病害，"
                "问题自动派单至城市管理网格化平台，形成发现、处置、核查闭环，巡检效率较人工提升五倍以上。",
            ),
            _o(
                "product",
                "车载AI道路病害识别终端",
                "ai.cv",
                "30000.00",
                "80000.00",
                500,
                "hnte iso9001",
                "病害识别 视觉检测 车载终端 道路巡检",
                "可安装于公交、环卫等社会车辆的边缘识别终端，离线运行病害识别算法，仅回传病害图片与位置，流量成本低。",
            ),
            _o(
                "product",
                "道路养护决策分析平台",
                "transport.road",
                "400000.00",
                "1500000.00",
                12,
                "hnte",
                "道路养护 决策分析 道路资产 一张图",
                "建设道路资产一张图，基于病害发展趋势评估路况指数，自动生成年度养护计划与预算建议。",
            ),
            _o(
                "service",
                "道路资产数字化采集服务",
                "transport.road",
                "200000.00",
                "900000.00",
                20,
                "hnte",
                "道路资产 数字化 采集 测绘 道路巡检",
                "采用车载激光与全景影像对道路、桥梁及附属设施进行数字化采集与建档，成果可直接导入养护管理系统。",
            ),
        ],
    ),
    _sme(
        "北京安颐智慧健康科技有限公司",
        "Beijing Anyi Smart Health Technology Co., Ltd.",
        "朝阳园",
        "health",
        "智慧养老整体方案提供商，产品覆盖养老服务平台与居家安全监测终端。",
        "hnte mlps3 iso9001 iso27001 zjtx",
        [
            _o(
                "product",
                "安颐智慧养老服务平台",
                "health.digital",
                "600000.00",
                "3000000.00",
                10,
                "hnte mlps3 iso27001",
                "智慧养老 养老服务 养老平台 居家养老",
                "覆盖养老机构、街道养老驿站与居家老人的一体化平台：能力评估、健康档案、服务工单派发与监管、"
                "养老补贴结算，已通过等保三级测评，可与民政、卫健部门系统对接。",
            ),
            _o(
                "product",
                "安颐毫米波跌倒检测雷达",
                "health.digital",
                "1200.00",
                "2600.00",
                20000,
                "hnte iso9001",
                "跌倒检测 毫米波雷达 居家养老 安全监测",
                "非接触、不涉及隐私的毫米波雷达，卫生间与卧室均可安装，跌倒与长时间静止自动告警并推送家属与服务商。",
            ),
            _o(
                "product",
                "居家养老安全监护套装",
                "health.digital",
                "800.00",
                "3000.00",
                30000,
                "hnte",
                "居家养老 紧急呼叫 烟感 安全监护",
                "包含紧急呼叫按钮、烟感、燃气与门磁传感器，接入平台后可实现7×24小时安全值守。",
            ),
            _o(
                "service",
                "养老机构信息化实施服务",
                "health.digital",
                "100000.00",
                "500000.00",
                25,
                "hnte",
                "养老信息化 实施 养老机构 智慧养老",
                "为养老机构提供业务梳理、系统部署、数据迁移与护理员培训，两周完成上线；上线后三个月内驻场陪跑，协助完成民政监管数据对接。",
            ),
        ],
    ),
    _sme(
        "北京禾熠养老科技有限公司",
        "Beijing Heyi Elderly Care Technology Co., Ltd.",
        "朝阳园",
        "health",
        "社区养老信息化企业。",
        "hnte mlps3:expired",
        [
            _o(
                "product",
                "社区养老驿站管理系统",
                "health.digital",
                "80000.00",
                "300000.00",
                40,
                "hnte",
                "养老驿站 社区养老 智慧养老",
                "驿站服务登记、助餐助浴预约、服务补贴核销与运营统计，适合街道统一部署，已在多个社区养老驿站使用。",
            ),
            _o(
                "product",
                "禾熠智能呼叫定位手环",
                "health.digital",
                "300.00",
                "600.00",
                50000,
                "hnte",
                "定位手环 紧急呼叫 居家养老 智慧养老",
                "支持一键呼叫、定位与心率监测，续航七天，适合独居与失智老人；可设置电子围栏，走失时自动通知家属与社区。",
            ),
            _o(
                "product",
                "老年人能力评估系统",
                "health.digital",
                "100000.00",
                "400000.00",
                20,
                "hnte",
                "能力评估 养老 健康档案 智慧养老",
                "依据国家老年人能力评估标准的移动评估系统，评估员现场平板录入，自动计算能力等级并生成照护建议与补贴测算。",
            ),
        ],
    ),
    _sme(
        "北京冷衡节能科技有限公司",
        "Beijing Lengheng Energy Saving Technology Co., Ltd.",
        "东城园",
        "green",
        "备案节能服务公司，专注公共建筑中央空调系统的智慧节能改造与合同能源管理。",
        "hnte emc iso9001 iso14001 zjtx",
        [
            _o(
                "product",
                "冷衡中央空调AI群控节能系统",
                "green.hvac",
                "500000.00",
                "3500000.00",
                15,
                "hnte emc iso9001",
                "中央空调 节能改造 AI寻优 冷站群控 合同能源管理",
                "基于负荷预测的冷站AI寻优群控系统，冷机、水泵、冷却塔协同优化，商业综合体实测综合节能率22%–30%；"
                "兼容主流品牌冷水机组，改造期间不停机。",
            ),
            _o(
                "service",
                "合同能源管理中央空调节能改造",
                "green.hvac",
                "1000000.00",
                "8000000.00",
                8,
                "hnte emc",
                "合同能源管理 EMC 节能改造 中央空调",
                "以合同能源管理模式实施中央空调节能改造，客户零投入，按第三方测量验证的节能量分享收益，分享期五至八年。",
            ),
            _o(
                "service",
                "冷站能效诊断服务",
                "green.hvac",
                "50000.00",
                "200000.00",
                40,
                "hnte emc",
                "能效诊断 能源审计 中央空调 节能",
                "两周内完成冷站运行数据采集与能效诊断，出具节能潜力评估与改造方案，可作为合同能源管理项目的基准能耗依据。",
            ),
            _o(
                "product",
                "建筑能耗分项计量平台",
                "green.hvac",
                "200000.00",
                "900000.00",
                20,
                "hnte iso9001",
                "能耗监测 分项计量 建筑节能 能效管理",
                "电、水、冷热量分项计量与能效对标分析，满足公共建筑能耗监测平台数据上报要求，支持按租户分摊能耗费用。",
            ),
        ],
    ),
)

DEMO_SME = ANCHOR_SMES[0].org.name

# --------------------------------------------------------------------- service providers, packages, mentors


@dataclass(frozen=True, slots=True)
class PackageSpec:
    title: str
    category: str
    value: str  # yuan
    description: str


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    org: OrgSpec
    packages: tuple[PackageSpec, ...]
    focus: tuple[str, ...]  # mentors' expertise comes from here
    mentors: int = 2


def _provider(
    name: str, en: str, district: str, description: str, focus: str, packages: list[PackageSpec], mentors: int = 2
) -> ProviderSpec:
    return ProviderSpec(
        OrgSpec("service_provider", name, en, district, "services", description, (("zgc_hnte", "valid"),)),
        tuple(packages),
        tuple(focus.split()),
        mentors,
    )


def _p(title: str, category: str, value: str, description: str) -> PackageSpec:
    return PackageSpec(title, category, value, description)


PROVIDERS: tuple[ProviderSpec, ...] = (
    _provider(
        "北京启航硬科技孵化器有限公司",
        "Beijing Qihang Hard-tech Incubator Co., Ltd.",
        "海淀园",
        "中关村硬科技孵化器，聚焦人工智能与智能制造早期项目，提供空间、概念验证与投融资服务。",
        "services.incubation ai.robotics mfg.equipment",
        [
            _p(
                "硬科技孵化入驻服务包",
                "services.incubation",
                "120000.00",
                "一年期工位与实验台入驻、共享加工中心使用时长、创业导师月度辅导，入驻前六个月房租减免。",
            ),
            _p(
                "概念验证服务包",
                "services.incubation",
                "200000.00",
                "提供原型设计、样机试制与首批用户验证支持，配合开放实验室完成技术可行性评估。",
            ),
            _p(
                "融资路演服务包",
                "services.incubation",
                "30000.00",
                "商业计划书打磨、路演辅导与季度专场路演，对接五十余家早期投资机构。",
            ),
        ],
        3,
    ),
    _provider(
        "北京智谷加速器管理有限公司",
        "Beijing Zhigu Accelerator Management Co., Ltd.",
        "昌平园",
        "面向成长期科技企业的加速器，提供厂房空间、供应链对接与大企业开放创新资源。",
        "services.incubation mfg.automation health.device",
        [
            _p(
                "加速器厂房入驻服务包",
                "services.incubation",
                "360000.00",
                "五百至两千平方米标准厂房，配套双回路供电与危化品库，首年租金优惠。",
            ),
            _p(
                "大企业开放创新对接服务包",
                "services.incubation",
                "50000.00",
                "每季度组织大企业需求发布与闭门对接会，协助形成采购或联合研发合作。",
            ),
        ],
    ),
    _provider(
        "北京知衡知识产权代理有限公司",
        "Beijing Zhiheng Intellectual Property Agency Co., Ltd.",
        "海淀园",
        "专利与商标代理机构，服务科技型中小企业的知识产权布局与运营。",
        "services.consulting ict.software ai.nlp",
        [
            _p(
                "知识产权托管服务包",
                "services.consulting",
                "60000.00",
                "一年期知识产权托管：专利挖掘与布局、十件发明专利申请代理、年费监控与侵权预警。",
            ),
            _p(
                "高新技术企业认定辅导服务包",
                "services.consulting",
                "30000.00",
                "知识产权、研发费用归集与科技成果转化材料全流程辅导，未通过认定全额退款。",
            ),
            _p(
                "专利导航分析服务包",
                "services.consulting",
                "80000.00",
                "围绕企业核心产品开展专利导航，出具技术路线、竞争对手与风险规避分析报告。",
            ),
        ],
    ),
    _provider(
        "北京信和财税咨询有限公司",
        "Beijing Xinhe Finance and Tax Consulting Co., Ltd.",
        "朝阳园",
        "财税代理与咨询机构，熟悉科技企业研发费用加计扣除与高企税收政策。",
        "services.fintech services.consulting",
        [
            _p(
                "财税代理服务包",
                "services.fintech",
                "24000.00",
                "一年期代理记账、纳税申报与研发费用辅助账，季度财务分析报告。",
            ),
            _p(
                "研发费用加计扣除辅导服务包",
                "services.fintech",
                "20000.00",
                "研发项目立项、费用归集与留存备查资料辅导，确保加计扣除合规享受。",
            ),
        ],
    ),
    _provider(
        "北京华测通检验检测技术有限公司",
        "Beijing Huacetong Testing Technology Co., Ltd.",
        "亦庄园",
        "具备CMA与CNAS资质的第三方检验检测机构，覆盖电子电气、医疗器械与新材料。",
        "services.rnd health.device materials.advanced",
        [
            _p(
                "检验检测服务包",
                "services.rnd",
                "100000.00",
                "电磁兼容、安规、环境可靠性检测额度，报告加盖CMA与CNAS标识，享受优先排期。",
            ),
            _p(
                "医疗器械注册检验服务包",
                "services.rnd",
                "150000.00",
                "有源医疗器械注册检验全项目服务，配合产品技术要求编写与整改指导。",
            ),
        ],
    ),
    _provider(
        "北京云枢算力科技服务有限公司",
        "Beijing Yunshu Compute Technology Services Co., Ltd.",
        "石景山园",
        "云与算力资源服务商，运营面向中小企业的云资源与智算资源补贴通道。",
        "ict.cloud ai.compute",
        [
            _p(
                "云资源补贴包",
                "ict.cloud",
                "50000.00",
                "价值五万元的云主机、对象存储与数据库资源代金券，配套上云迁移技术支持。",
            ),
            _p(
                "智算资源券服务包",
                "ai.compute",
                "200000.00",
                "国产加速卡训练与推理算力资源券，含模型迁移适配与性能调优支持。",
            ),
        ],
        1,
    ),
    _provider(
        "北京融智投融资服务有限公司",
        "Beijing Rongzhi Investment and Financing Services Co., Ltd.",
        "西城园",
        "科技金融服务机构，提供融资顾问、路演组织与银行信贷对接。",
        "services.fintech services.incubation",
        [
            _p(
                "融资路演服务包",
                "services.incubation",
                "40000.00",
                "融资需求诊断、路演材料打磨与两场专场路演，对接天使、风险投资与产业资本。",
            ),
            _p(
                "科技信贷对接服务包",
                "services.fintech",
                "10000.00",
                "梳理企业订单与应收账款，匹配合作银行科技信贷产品，协助完成线上申请。",
            ),
        ],
        3,
    ),
    _provider(
        "北京英才汇人力资源服务有限公司",
        "Beijing Yingcaihui Human Resources Services Co., Ltd.",
        "海淀园",
        "聚焦科技人才的人力资源服务机构。",
        "services.hr",
        [
            _p(
                "人才招聘服务包",
                "services.hr",
                "60000.00",
                "五个技术岗位的猎聘服务，候选人保证期三个月，含薪酬市场数据报告。",
            ),
            _p("新员工培训服务包", "services.hr", "20000.00", "入职培训、项目管理与研发规范课程各一期。"),
        ],
        1,
    ),
    _provider(
        "北京律信法律咨询服务有限公司",
        "Beijing Lüxin Legal Consulting Services Co., Ltd.",
        "东城园",
        "为科技企业提供合同、股权与合规咨询。",
        "services.consulting",
        [
            _p(
                "法律顾问服务包",
                "services.consulting",
                "36000.00",
                "一年期常年法律顾问：合同审查、股权激励方案与劳动用工合规咨询。",
            )
        ],
        1,
    ),
    _provider(
        "北京医创生物医药孵化器有限公司",
        "Beijing Yichuang Biomedicine Incubator Co., Ltd.",
        "大兴生物医药产业基地",
        "生物医药专业孵化器，配备公共实验平台与GMP中试车间。",
        "health.drug health.bio services.incubation",
        [
            _p(
                "新药研发公共平台服务包",
                "health.drug",
                "300000.00",
                "公共实验平台与中试车间使用额度，含药效评价与药物分析检测服务。",
            ),
            _p("药品注册申报辅导服务包", "health.drug", "150000.00", "IND申报策略、资料撰写与沟通交流会准备。"),
        ],
    ),
    _provider(
        "北京器研医疗器械技术服务有限公司",
        "Beijing Qiyan Medical Device Technical Services Co., Ltd.",
        "昌平园",
        "医疗器械注册与质量体系咨询机构。",
        "health.device",
        [
            _p(
                "医疗器械注册服务包",
                "health.device",
                "200000.00",
                "二类医疗器械注册全流程代理：技术要求、注册检验、临床评价与体系核查辅导。",
            )
        ],
        1,
    ),
    _provider(
        "北京智造工场科技服务有限公司",
        "Beijing Zhizao Gongchang Technology Services Co., Ltd.",
        "石景山园",
        "智能制造公共服务平台，提供数字化诊断与工业互联网应用推广。",
        "ict.iiot mfg.automation",
        [
            _p(
                "智能制造诊断服务包",
                "ict.iiot",
                "50000.00",
                "专家入企开展两天数字化成熟度诊断，出具转型路线图与上云用数赋智建议。",
            ),
            _p("工业APP试用服务包", "ict.iiot", "30000.00", "精选十款工业APP半年免费试用与实施指导。"),
        ],
    ),
    _provider(
        "北京绿源碳管理咨询有限公司",
        "Beijing Lüyuan Carbon Management Consulting Co., Ltd.",
        "通州园",
        "碳管理与节能咨询机构。",
        "green.env green.hvac",
        [
            _p("碳盘查服务包", "green.env", "60000.00", "组织层面温室气体盘查与核查报告，配套减排路径建议。"),
            _p("节能诊断服务包", "green.hvac", "40000.00", "重点用能设备能效测试与节能潜力评估。"),
        ],
    ),
    _provider(
        "北京星汉空天孵化器有限公司",
        "Beijing Xinghan Aerospace Incubator Co., Ltd.",
        "亦庄园",
        "商业航天与低空经济方向的专业孵化器。",
        "aerospace.satellite aerospace.launch aerospace.uav",
        [
            _p(
                "商业航天孵化服务包",
                "aerospace.launch",
                "150000.00",
                "总装测试场地、环境试验设备共享与航天质量体系辅导。",
            ),
            _p("遥感数据应用服务包", "aerospace.satellite", "80000.00", "遥感影像数据额度与应用开发技术支持。"),
        ],
    ),
    _provider(
        "北京数安网络安全服务有限公司",
        "Beijing Shu'an Cybersecurity Services Co., Ltd.",
        "海淀园",
        "网络安全测评与咨询机构。",
        "ict.security",
        [
            _p(
                "等保测评辅导服务包",
                "ict.security",
                "80000.00",
                "等保三级差距分析、整改指导与测评陪同，配套安全管理制度模板。",
            ),
            _p("渗透测试服务包", "ict.security", "50000.00", "两次Web与APP渗透测试及复测报告。"),
        ],
        1,
    ),
    _provider(
        "北京创新工坊设计服务有限公司",
        "Beijing Chuangxin Gongfang Design Services Co., Ltd.",
        "朝阳园",
        "工业设计与产品开发服务机构。",
        "services.rnd mfg.additive",
        [_p("工业设计服务包", "services.rnd", "100000.00", "产品外观、结构设计与手板打样，含三轮设计迭代。")],
        1,
    ),
    _provider(
        "北京出海通国际科技服务有限公司",
        "Beijing Chuhaitong International Technology Services Co., Ltd.",
        "朝阳园",
        "协助科技企业开拓海外市场的国际化服务机构。",
        "services.incubation services.consulting",
        [
            _p(
                "海外市场对接服务包",
                "services.incubation",
                "80000.00",
                "目标市场调研、海外展会参展与当地渠道对接，含海外知识产权布局建议。",
            )
        ],
        1,
    ),
    _provider(
        "北京材谷新材料中试基地有限公司",
        "Beijing Caigu New Materials Pilot Base Co., Ltd.",
        "房山园",
        "新材料中试熟化基地，提供中试场地、设备与工艺工程师服务。",
        "materials.graphene materials.advanced materials.semiconductor",
        [
            _p(
                "新材料中试服务包",
                "materials.advanced",
                "250000.00",
                "中试车间与设备使用额度，配备工艺工程师协助放大验证。",
            )
        ],
    ),
    _provider(
        "北京翔宇低空科技服务有限公司",
        "Beijing Xiangyu Low-Altitude Technology Services Co., Ltd.",
        "延庆园",
        "低空飞行服务与无人机应用推广机构。",
        "aerospace.uav",
        [
            _p("无人机飞手培训服务包", "aerospace.uav", "20000.00", "多旋翼无人机操控员培训与考证，含实飞训练。"),
            _p("低空场景测试服务包", "aerospace.uav", "60000.00", "测试空域申请协助与起降场使用，含飞行数据记录。"),
        ],
        1,
    ),
    _provider(
        "北京车联测评技术服务有限公司",
        "Beijing Chelian Testing and Evaluation Services Co., Ltd.",
        "顺义园",
        "智能网联汽车测试评价机构。",
        "transport.ev transport.its",
        [_p("自动驾驶测试服务包", "transport.ev", "120000.00", "封闭场地测试时长与仿真测试服务，协助申请道路测试。")],
    ),
)

GUARANTOR_PACKAGES: tuple[PackageSpec, ...] = (
    _p(
        "科技信贷融资担保服务包",
        "services.fintech",
        "500000.00",
        "为科技型中小企业的流动资金贷款提供担保，担保费率优惠，与合作银行联合审批、线上办理。",
    ),
)

DEMO_PROVIDER = PROVIDERS[0].org.name

# --------------------------------------------------------------------- mentors

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = (
    "建国",
    "志远",
    "晓东",
    "海峰",
    "立新",
    "文博",
    "思远",
    "嘉怡",
    "雪梅",
    "振华",
    "明轩",
    "子涵",
    "宏伟",
    "晓岚",
    "俊杰",
    "丽娟",
    "国栋",
    "婧",
    "磊",
    "静",
    "鹏",
    "敏",
    "浩然",
    "欣怡",
    "永强",
    "玉兰",
    "学军",
    "一鸣",
    "若溪",
    "天佑",
)

#: Mentor headline templates; ``{field}`` is the expertise category's name, ``{n}`` a number of years.
MENTOR_HEADLINES = (
    "前上市公司技术副总裁，{n}年{field}研发与产品经验",
    "{field}领域连续创业者，曾带领团队完成多轮融资",
    "资深投资人，专注{field}方向早期投资",
    "高校教授、博士生导师，长期从事{field}研究与成果转化",
    "大型国企数字化负责人，主导多个{field}项目落地",
    "{field}行业咨询专家，{n}年企业战略与市场咨询经验",
)
#: Headlines for mentors whose first expertise is a modern-services category (incubation, IP, finance, HR …).
MENTOR_HEADLINES_SERVICES = (
    "资深{field}专家，{n}年从业经验",
    "知名孵化器创始合伙人，深耕{field}{n}年",
    "{field}领域资深顾问，服务过数百家科技企业",
    "前会计师事务所合伙人，擅长{field}相关咨询",
)
MENTOR_BIOS = (
    "擅长帮助初创团队梳理产品定位、商业模式与融资节奏。",
    "关注技术成果从实验室走向市场的关键环节，辅导过数十家科技企业。",
    "熟悉大企业采购流程，可帮助中小企业对接订单与应用场景。",
    "擅长组织架构与团队管理，帮助企业建立研发与交付体系。",
)

# --------------------------------------------------------------------- SMEs' service needs

SERVICE_NEEDS: tuple[tuple[str, str, str | None, str], ...] = (
    (
        "国家高新技术企业认定申报辅导",
        "services.consulting",
        "30000.00",
        "计划今年申报高企，需要知识产权与研发费用归集辅导。",
    ),
    (
        "核心产品发明专利布局与申请",
        "services.consulting",
        "50000.00",
        "围绕核心产品申请发明专利五件左右，需专利挖掘与布局建议。",
    ),
    (
        "专精特新中小企业申报辅导",
        "services.consulting",
        "20000.00",
        "希望申报区级专精特新中小企业，需要材料梳理与指标测算。",
    ),
    ("A轮融资路演与投资人对接", "services.incubation", None, "拟融资三千万元，需要商业计划书打磨与投资人对接。"),
    (
        "研发场地需求（约300平方米，具备实验条件）",
        "services.incubation",
        "360000.00",
        "团队扩张，需要可做电子实验的研发场地。",
    ),
    ("产品电磁兼容与安规检测", "services.rnd", "80000.00", "新产品上市前需要EMC与安规检测，希望一个月内出报告。"),
    (
        "网络安全等级保护三级测评",
        "ict.security",
        "120000.00",
        "平台需通过等保三级测评才能进入政务项目，需要整改辅导与测评。",
    ),
    ("企业上云与云资源补贴申请", "ict.cloud", "50000.00", "计划将研发测试环境迁移上云，希望了解云资源补贴政策。"),
    ("招聘嵌入式软件工程师", "services.hr", "60000.00", "需要三名嵌入式软件工程师，熟悉RTOS与Linux驱动开发。"),
    ("代理记账与研发费用加计扣除", "services.fintech", "24000.00", "需要代理记账并规范研发费用辅助账。"),
    ("应收账款融资方案咨询", "services.fintech", None, "已与大企业签订合同，希望了解基于确权的应收账款线上融资。"),
    ("碳盘查与产品碳足迹核算", "green.env", "60000.00", "下游客户要求提供碳足迹数据，需要盘查与核算服务。"),
    ("模型训练算力资源租赁", "ai.compute", "400000.00", "行业大模型微调需要约64卡·月的训练算力。"),
    ("工业设计与样机外观结构设计", "services.rnd", "100000.00", "新一代终端需要外观与结构设计及手板打样。"),
    (
        "医疗器械注册检验与体系辅导",
        "health.device",
        "150000.00",
        "二类有源医疗器械拟申报注册，需要注册检验与体系辅导。",
    ),
)

# --------------------------------------------------------------------- demo accounts


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    organisation: str
    role: str  # UserRole value
    display_name: str
    description_zh: str
    description_en: str


DEMO_USER_SPECS: tuple[DemoUser, ...] = (
    DemoUser(
        "demo-sme",
        DEMO_SME,
        "admin",
        "陈晓东（数帆智汇）",
        "中小企业管理员：发布产品、响应订单、登记应收账款并申请融资",
        "SME admin: lists offers, answers orders, registers receivables and applies for finance",
    ),
    DemoUser(
        "demo-firm",
        DEMO_FIRM,
        "admin",
        "王立新（京华数智）",
        "大企业管理员：发布订单（含数字政府大数据平台项目）、筛选供应商、确权应收账款",
        "Large-firm admin: posts orders (incl. the digital-government big-data project), shortlists, "
        "confirms receivables",
    ),
    DemoUser(
        "demo-bank",
        "北京中关村银行",
        "reviewer",
        "李静（中关村银行）",
        "银行审核员：审核融资申请",
        "Bank reviewer: reviews finance applications",
    ),
    DemoUser(
        "demo-bank-approver",
        "北京中关村银行",
        "approver",
        "赵振华（中关村银行）",
        "银行审批人：大额融资的第二审批人",
        "Bank approver: second approver for large finance applications",
    ),
    DemoUser(
        "demo-bank-admin",
        "北京中关村银行",
        "admin",
        "孙启明（中关村银行）",
        "银行管理员：维护融资产品与核心企业授信额度",
        "Bank admin: maintains the finance product and the credit lines for core enterprises",
    ),
    *(
        DemoUser(
            username,
            bank,
            "admin",
            person,
            "合作银行管理员：维护本行融资产品与授信额度、审核本行融资申请",
            "Partner-bank admin: maintains the bank's product and credit lines, reviews its applications",
        )
        for username, bank, person in (
            ("demo-cdb", "国家开发银行北京分行", "高文涛（国开行北京分行）"),
            ("demo-icbc", "中国工商银行北京分行", "钱珊（工商银行北京分行）"),
            ("demo-abc", "中国农业银行北京分行", "何建军（农业银行北京分行）"),
            ("demo-boc", "中国银行北京分行", "林语桐（中国银行北京分行）"),
            ("demo-ccb", "中国建设银行北京分行", "邓凯（建设银行北京分行）"),
            ("demo-bob", "北京银行", "罗婧（北京银行）"),
        )
    ),
    *(
        DemoUser(
            username,
            firm,
            "admin",
            person,
            f"核心企业管理员：为{project}的供应商应收账款确权、付款",
            f"Core-enterprise admin: confirms and pays its suppliers' receivables ({project_en})",
        )
        for username, firm, person, project, project_en in (
            (
                "demo-yandu",
                "北京燕都智造集团股份有限公司",
                "郑海波（燕都智造）",
                "工业云PaaS平台项目",
                "industrial PaaS",
            ),
            (
                "demo-tongqu",
                "北京通衢路桥建设集团有限公司",
                "冯立（通衢路桥）",
                "智慧道路巡检系统项目",
                "road inspection",
            ),
            (
                "demo-yikang",
                "北京颐康养老产业集团有限公司",
                "唐慧敏（颐康养老）",
                "智慧城市养老数字化平台项目",
                "elderly care",
            ),
            (
                "demo-jiatai",
                "北京嘉泰商业置业集团有限公司",
                "曹宇（嘉泰商业）",
                "中央空调智慧能源技术节能项目",
                "HVAC energy saving",
            ),
            (
                "demo-rongtai",
                "北京融泰金融控股集团有限公司",
                "许晨（融泰金控）",
                "集团数据治理平台建设项目",
                "data governance",
            ),
        )
    ),
    DemoUser(
        "demo-office",
        PROGRAMME_OFFICE.name,
        "admin",
        "刘文博（管委会）",
        "管委会：查看千帆计划全流程数据",
        "Programme office: sees the whole Qianfan funnel",
    ),
    DemoUser(
        "demo-provider",
        DEMO_PROVIDER,
        "admin",
        "周嘉怡（启航孵化器）",
        "服务机构：发布服务包与创业导师",
        "Service provider: publishes service packages and mentors",
    ),
)

#: (username, organisation name, role description in Chinese, role description in English) — for README and API.
DEMO_USERS: list[tuple[str, str, str, str]] = [
    (u.username, u.organisation, u.description_zh, u.description_en) for u in DEMO_USER_SPECS
]


def demo_user_input(user: DemoUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "password": DEMO_PASSWORD,
        "email": f"{user.username}@demo.qianfan.example",
    }
