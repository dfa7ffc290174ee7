"""Reference data: industry clusters and their categories, Zhongguancun branch parks (分园), qualifications.

Built on the clusters the programme names (新一代信息技术, 医药健康, 智能制造, 新材料, 绿色能源与节能环保, 现代交通,
现代服务业, 人工智能, 商业航天 …).  Codes are stable ASCII slugs stored in the database; names are for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    cluster: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cluster:
    code: str
    name_zh: str
    name_en: str
    categories: tuple[Category, ...] = field(default_factory=tuple)


def _cluster(code: str, zh: str, en: str, cats: list[tuple[str, str, str, tuple[str, ...]]]) -> Cluster:
    return Cluster(
        code,
        zh,
        en,
        tuple(Category(f"{code}.{c}", czh, cen, code, kw) for c, czh, cen, kw in cats),
    )


CLUSTERS: tuple[Cluster, ...] = (
    _cluster(
        "ict",
        "新一代信息技术",
        "Next-generation information technology",
        [
            (
                "bigdata",
                "大数据与数据治理",
                "Big data and data governance",
                ("大数据", "数据中台", "数据治理"),
            ),
            ("cloud", "云计算与云平台", "Cloud computing and platforms", ("云计算", "PaaS", "IaaS", "SaaS")),
            ("iiot", "工业互联网", "Industrial internet", ("工业互联网", "工业云", "设备上云")),
            ("iot", "物联网与传感", "Internet of things and sensing", ("物联网", "传感器", "IoT")),
            (
                "security",
                "网络与信息安全",
                "Cyber and information security",
                ("等保", "网络安全", "数据安全"),
            ),
            ("software", "基础与行业软件", "System and industry software", ("操作系统", "数据库", "中间件")),
            ("ic", "集成电路", "Integrated circuits", ("芯片", "EDA", "集成电路")),
            ("5g", "5G与通信", "5G and communications", ("5G", "专网", "通信")),
            ("xr", "虚拟现实与数字内容", "XR and digital content", ("VR", "AR", "元宇宙")),
            ("blockchain", "区块链", "Blockchain", ("区块链", "存证")),
            (
                "egov",
                "数字政府与智慧城市",
                "Digital government and smart city",
                ("数字政府", "智慧城市", "政务"),
            ),
        ],
    ),
    _cluster(
        "ai",
        "人工智能",
        "Artificial intelligence",
        [
            ("cv", "计算机视觉", "Computer vision", ("图像识别", "视频分析", "视觉检测")),
            ("nlp", "自然语言与大模型", "Language and large models", ("大模型", "知识图谱", "智能客服")),
            ("robotics", "智能机器人", "Intelligent robotics", ("机器人", "巡检机器人", "服务机器人")),
            ("compute", "算力与AI平台", "AI compute and platforms", ("算力", "训练平台", "推理")),
        ],
    ),
    _cluster(
        "health",
        "医药健康",
        "Pharmaceuticals and health",
        [
            ("drug", "创新药", "Innovative drugs", ("创新药", "CRO", "临床")),
            ("device", "高端医疗器械", "Medical devices", ("医疗器械", "影像设备", "体外诊断")),
            (
                "digital",
                "数字医疗与智慧养老",
                "Digital health and elderly care",
                ("互联网医疗", "智慧养老", "健康管理"),
            ),
            ("bio", "生物技术", "Biotechnology", ("基因", "细胞治疗", "合成生物")),
        ],
    ),
    _cluster(
        "mfg",
        "智能制造",
        "Intelligent manufacturing",
        [
            ("equipment", "高端装备", "High-end equipment", ("数控", "装备", "产线")),
            ("automation", "工业自动化", "Industrial automation", ("PLC", "MES", "自动化")),
            ("inspection", "智能检测与巡检", "Intelligent inspection", ("检测", "巡检", "无损检测")),
            ("additive", "增材制造", "Additive manufacturing", ("3D打印", "增材制造")),
        ],
    ),
    _cluster(
        "materials",
        "新材料",
        "New materials",
        [
            (
                "semiconductor",
                "第三代半导体材料",
                "Third-generation semiconductor materials",
                ("碳化硅", "氮化镓"),
            ),
            ("graphene", "石墨烯与碳材料", "Graphene and carbon materials", ("石墨烯", "碳纤维")),
            ("advanced", "先进基础材料", "Advanced basic materials", ("复合材料", "涂层", "特种合金")),
        ],
    ),
    _cluster(
        "green",
        "绿色能源与节能环保",
        "Green energy and environmental protection",
        [
            (
                "hvac",
                "建筑与暖通节能",
                "Building and HVAC energy saving",
                ("中央空调", "节能改造", "合同能源管理"),
            ),
            ("hydrogen", "氢能与燃料电池", "Hydrogen and fuel cells", ("氢能", "燃料电池")),
            ("grid", "能源互联网与储能", "Energy internet and storage", ("储能", "微电网", "光伏")),
            (
                "env",
                "环境监测与治理",
                "Environmental monitoring and treatment",
                ("环境监测", "污水处理", "碳排放"),
            ),
        ],
    ),
    _cluster(
        "transport",
        "现代交通",
        "Modern transport",
        [
            ("its", "智能交通", "Intelligent transport systems", ("智能交通", "信号控制", "车路协同")),
            ("ev", "智能网联汽车", "Connected and autonomous vehicles", ("自动驾驶", "车联网", "新能源汽车")),
            ("road", "道路与轨道设施", "Road and rail infrastructure", ("道路巡检", "桥梁监测", "轨道交通")),
        ],
    ),
    _cluster(
        "services",
        "现代服务业",
        "Modern services",
        [
            ("rnd", "研发与技术服务", "R&D and technical services", ("研发外包", "技术服务", "检验检测")),
            (
                "consulting",
                "科技咨询与知识产权",
                "Consulting and intellectual property",
                ("知识产权", "咨询", "专利"),
            ),
            ("incubation", "创业孵化服务", "Incubation services", ("孵化", "加速器", "创业辅导")),
            ("fintech", "金融科技", "Financial technology", ("供应链金融", "风控", "支付")),
            ("hr", "人力资源与培训", "HR and training", ("招聘", "培训", "人才")),
        ],
    ),
    _cluster(
        "aerospace",
        "商业航天",
        "Commercial aerospace",
        [
            ("satellite", "卫星与空间信息", "Satellites and spatial information", ("卫星", "遥感", "北斗")),
            ("launch", "运载与地面设备", "Launch and ground equipment", ("火箭", "地面站", "测控")),
            ("uav", "无人机与低空经济", "Drones and low-altitude economy", ("无人机", "低空", "航拍")),
        ],
    ),
)

CLUSTER_BY_CODE: dict[str, Cluster] = {c.code: c for c in CLUSTERS}
CATEGORY_BY_CODE: dict[str, Category] = {cat.code: cat for c in CLUSTERS for cat in c.categories}
CLUSTER_CODES: tuple[str, ...] = tuple(CLUSTER_BY_CODE)
CATEGORY_CODES: tuple[str, ...] = tuple(CATEGORY_BY_CODE)

#: The branch parks of the Zhongguancun demonstration zone (一区十六园) plus its best-known featured bases.
DISTRICTS: tuple[str, ...] = (
    "海淀园",
    "昌平园",
    "顺义园",
    "大兴生物医药产业基地",
    "朝阳园",
    "丰台园",
    "亦庄园",
    "东城园",
    "西城园",
    "石景山园",
    "通州园",
    "门头沟园",
    "房山园",
    "平谷园",
    "怀柔园",
    "密云园",
    "延庆园",
)


@dataclass(frozen=True, slots=True)
class QualificationKind:
    code: str
    name_zh: str
    name_en: str


QUALIFICATIONS: tuple[QualificationKind, ...] = (
    QualificationKind("hnte", "国家高新技术企业", "National high-tech enterprise"),
    QualificationKind("zjtx", "专精特新中小企业", "Specialised, refined, distinctive and innovative SME"),
    QualificationKind("zjtx_giant", "专精特新“小巨人”企业", "Little-giant SME"),
    QualificationKind("zgc_hnte", "中关村高新技术企业", "Zhongguancun high-tech enterprise"),
    QualificationKind("iso9001", "ISO 9001 质量管理体系认证", "ISO 9001 quality management"),
    QualificationKind("iso14001", "ISO 14001 环境管理体系认证", "ISO 14001 environmental management"),
    QualificationKind("iso27001", "ISO/IEC 27001 信息安全管理体系认证", "ISO/IEC 27001 information security"),
    QualificationKind("iso13485", "ISO 13485 医疗器械质量管理体系认证", "ISO 13485 medical devices"),
    QualificationKind("cmmi3", "CMMI 三级", "CMMI level 3"),
    QualificationKind("cmmi5", "CMMI 五级", "CMMI level 5"),
    QualificationKind("itss", "ITSS 信息技术服务标准", "ITSS IT service standard"),
    QualificationKind("mlps3", "网络安全等级保护三级", "Cybersecurity classified protection level 3"),
    QualificationKind("nmpa", "医疗器械注册证", "NMPA medical device registration"),
    QualificationKind("emc", "节能服务公司备案", "Registered energy-service company"),
)
QUALIFICATION_BY_CODE: dict[str, QualificationKind] = {q.code: q for q in QUALIFICATIONS}


def category_label(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    if cat is None:
        return code
    return f"{CLUSTER_BY_CODE[cat.cluster].name_zh} / {cat.name_zh}"
