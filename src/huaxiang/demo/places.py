"""Real Chinese places for the demo: cities, districts, roads, stores and ID-card region codes.

The district codes and their validity by year come from python-stdnum's administrative-division
table (``stdnum/cn/loc.dat``), so an ID number built here passes ``stdnum.cn.ric.validate``; the
roads are a hand-picked list of real streets, because no installed library ships street names.
"""

from __future__ import annotations

import importlib.resources
import random
import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class District:
    """A district (区) with its six-digit administrative code and a few real roads in it."""

    name: str
    code: str
    roads: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city; ``province`` equals ``name`` for the four municipalities."""

    province: str
    name: str
    prefix: str  # first four digits of its district codes
    weight: float  # relative share of customers living there
    districts: tuple[District, ...]

    @property
    def short(self) -> str:
        return self.name.removesuffix("市")


@dataclass(frozen=True, slots=True)
class Store:
    """A physical store; POS exports name the store, not the code."""

    code: str
    name: str
    city: str


# (province, city, weight, {district: roads}); district codes are looked up in stdnum's table.
_CITY_TABLE: tuple[tuple[str, str, float, dict[str, tuple[str, ...]]], ...] = (
    (
        "北京市",
        "北京市",
        10,
        {
            "东城区": ("王府井大街", "东四北大街", "和平里东街"),
            "西城区": ("西单北大街", "金融大街", "德胜门外大街"),
            "朝阳区": ("建国路", "朝阳北路", "望京街", "酒仙桥路"),
            "海淀区": ("中关村大街", "学院路", "知春路", "成府路"),
            "丰台区": ("丰台北路", "方庄路"),
        },
    ),
    (
        "上海市",
        "上海市",
        10,
        {
            "黄浦区": ("南京东路", "淮海中路", "西藏南路"),
            "徐汇区": ("漕溪北路", "肇嘉浜路", "天钥桥路"),
            "静安区": ("南京西路", "延安中路", "共和新路"),
            "浦东新区": ("世纪大道", "张杨路", "陆家嘴环路", "川沙路"),
            "闵行区": ("七莘路", "莘松路", "虹井路"),
            "杨浦区": ("四平路", "国定路", "淞沪路"),
        },
    ),
    (
        "广东省",
        "广州市",
        8,
        {
            "天河区": ("天河路", "体育西路", "花城大道"),
            "越秀区": ("北京路", "东风中路", "环市东路"),
            "海珠区": ("江南大道中", "新港中路", "工业大道"),
            "白云区": ("白云大道北", "机场路", "广园中路"),
            "番禺区": ("番禺大道北", "兴南大道"),
        },
    ),
    (
        "广东省",
        "深圳市",
        8,
        {
            "福田区": ("深南大道", "福华三路", "华强北路"),
            "南山区": ("南海大道", "科苑路", "后海大道"),
            "罗湖区": ("人民南路", "东门中路", "深南东路"),
            "宝安区": ("宝安大道", "创业一路", "建安一路"),
            "龙岗区": ("龙岗大道", "龙翔大道"),
        },
    ),
    (
        "四川省",
        "成都市",
        6,
        {
            "锦江区": ("春熙路", "红星路三段", "东大街"),
            "青羊区": ("人民中路", "蜀都大道", "琴台路"),
            "武侯区": ("人民南路四段", "武侯祠大街", "科华北路"),
            "成华区": ("建设路", "府青路"),
        },
    ),
    (
        "浙江省",
        "杭州市",
        6,
        {
            "上城区": ("延安路", "解放路", "庆春路"),
            "西湖区": ("文三路", "天目山路", "学院路"),
            "拱墅区": ("莫干山路", "湖墅南路", "上塘路"),
            "滨江区": ("江南大道", "滨盛路"),
            "余杭区": ("文一西路", "五常大道"),
        },
    ),
    (
        "重庆市",
        "重庆市",
        6,
        {
            "渝中区": ("民权路", "中山三路", "解放西路"),
            "沙坪坝区": ("小龙坎正街", "天星桥正街"),
            "九龙坡区": ("杨家坪正街", "谢家湾正街"),
            "南岸区": ("南坪西路", "江南大道"),
        },
    ),
    (
        "湖北省",
        "武汉市",
        5,
        {
            "江汉区": ("解放大道", "江汉路", "新华路"),
            "武昌区": ("中南路", "中北路", "武珞路"),
            "洪山区": ("珞喻路", "雄楚大道", "民族大道"),
            "江岸区": ("沿江大道", "中山大道", "建设大道"),
        },
    ),
    (
        "陕西省",
        "西安市",
        5,
        {
            "雁塔区": ("小寨东路", "长安南路", "科技路"),
            "碑林区": ("南大街", "东大街", "友谊西路"),
            "新城区": ("解放路", "长乐西路"),
            "未央区": ("凤城八路", "未央路"),
        },
    ),
    (
        "江苏省",
        "南京市",
        5,
        {
            "玄武区": ("中山路", "珠江路", "北京东路"),
            "秦淮区": ("中华路", "太平南路", "贡院街"),
            "鼓楼区": ("中山北路", "湖南路", "广州路"),
            "建邺区": ("江东中路", "奥体大街"),
            "江宁区": ("双龙大道", "天元中路"),
        },
    ),
    (
        "天津市",
        "天津市",
        5,
        {
            "和平区": ("南京路", "滨江道", "营口道"),
            "南开区": ("鞍山西道", "红旗南路", "黄河道"),
            "河西区": ("友谊路", "解放南路"),
            "河东区": ("十一经路", "津塘路"),
        },
    ),
    (
        "江苏省",
        "苏州市",
        4,
        {
            "姑苏区": ("人民路", "干将路", "观前街"),
            "吴中区": ("东吴北路", "宝带西路"),
            "虎丘区": ("狮山路", "长江路"),
            "相城区": ("相城大道", "华元路"),
        },
    ),
    (
        "湖南省",
        "长沙市",
        4,
        {
            "芙蓉区": ("五一大道", "八一路", "韶山北路"),
            "天心区": ("黄兴南路", "劳动西路", "书院路"),
            "岳麓区": ("麓山南路", "枫林一路", "桐梓坡路"),
            "开福区": ("中山路", "三一大道"),
            "雨花区": ("韶山中路", "万家丽中路"),
        },
    ),
    (
        "河南省",
        "郑州市",
        4,
        {
            "金水区": ("花园路", "经三路", "农业路"),
            "中原区": ("中原路", "建设西路"),
            "二七区": ("京广中路", "大学路"),
            "管城回族区": ("城东路", "商城路"),
        },
    ),
    (
        "山东省",
        "青岛市",
        3,
        {
            "市南区": ("香港中路", "中山路", "东海西路"),
            "市北区": ("台东一路", "辽宁路"),
            "崂山区": ("海尔路", "松岭路"),
            "李沧区": ("京口路", "九水路"),
        },
    ),
    (
        "辽宁省",
        "沈阳市",
        3,
        {
            "和平区": ("太原北街", "中华路", "三好街"),
            "沈河区": ("青年大街", "中街路"),
            "皇姑区": ("黄河南大街", "崇山中路"),
            "铁西区": ("建设中路", "兴华南街"),
        },
    ),
    (
        "浙江省",
        "宁波市",
        3,
        {
            "海曙区": ("中山西路", "解放南路", "药行街"),
            "鄞州区": ("天童南路", "四明中路"),
            "江北区": ("人民路", "大庆南路"),
        },
    ),
    (
        "安徽省",
        "合肥市",
        3,
        {
            "庐阳区": ("长江中路", "阜阳路", "淮河路"),
            "蜀山区": ("黄山路", "长江西路", "肥西路"),
            "包河区": ("马鞍山路", "徽州大道"),
            "瑶海区": ("胜利路", "明光路"),
        },
    ),
    (
        "福建省",
        "福州市",
        2,
        {
            "鼓楼区": ("五四路", "东街", "杨桥中路"),
            "台江区": ("八一七中路", "工业路"),
            "仓山区": ("上三路", "南江滨西大道"),
            "晋安区": ("福马路", "福新中路"),
        },
    ),
    (
        "福建省",
        "厦门市",
        2,
        {
            "思明区": ("中山路", "湖滨南路", "厦禾路"),
            "湖里区": ("湖里大道", "嘉禾路"),
            "集美区": ("集美大道", "银江路"),
        },
    ),
    (
        "山东省",
        "济南市",
        3,
        {
            "历下区": ("泉城路", "经十路", "解放路"),
            "市中区": ("英雄山路", "经七路"),
            "槐荫区": ("纬十二路", "阳光新路"),
            "天桥区": ("北园大街", "堤口路"),
        },
    ),
    (
        "云南省",
        "昆明市",
        2,
        {
            "五华区": ("东风西路", "人民中路", "南屏街"),
            "盘龙区": ("北京路", "白塔路", "穿金路"),
            "官渡区": ("春城路", "关上中路"),
            "西山区": ("滇池路", "前卫西路"),
        },
    ),
    (
        "辽宁省",
        "大连市",
        2,
        {
            "中山区": ("人民路", "中山路", "解放路"),
            "西岗区": ("长江路", "北京街"),
            "沙河口区": ("西安路", "黄河路"),
            "甘井子区": ("华北路", "中华西路"),
        },
    ),
    (
        "广东省",
        "佛山市",
        2,
        {
            "禅城区": ("季华路", "祖庙路", "汾江中路"),
            "南海区": ("南海大道北", "桂澜中路"),
            "顺德区": ("德胜东路", "东乐路"),
        },
    ),
    (
        "江苏省",
        "无锡市",
        2,
        {
            "梁溪区": ("中山路", "人民中路", "解放南路"),
            "滨湖区": ("湖滨路", "蠡湖大道"),
            "新吴区": ("长江路", "新洲路"),
        },
    ),
)

_COMMUNITY_WORDS = (
    "阳光",
    "锦绣",
    "翠湖",
    "金色",
    "碧桂",
    "华庭",
    "绿城",
    "万科",
    "东方",
    "幸福",
    "和平",
    "紫荆",
    "丽景",
    "康乐",
    "滨江",
    "明珠",
    "新城",
    "怡景",
    "嘉园",
    "书香",
)
_COMMUNITY_KINDS = ("花园", "小区", "家园", "苑", "公寓", "新村", "名苑", "雅居")

_Validity = tuple[int, int, str]  # (first year, last year, name)


@cache
def _division_table() -> dict[str, tuple[_Validity, ...]]:
    """stdnum's division table: six-digit code → (first year, last year, name) ranges.

    Read from the data file because ``stdnum.numdb`` only looks up a code it is given; it cannot
    list the codes of a city or of a year.
    """
    text = (importlib.resources.files("stdnum") / "cn" / "loc.dat").read_text("utf-8")
    table: dict[str, tuple[_Validity, ...]] = {}
    province = ""
    for line in text.splitlines():
        match = re.match(r"^(\s*)(\d+) .*?county=\"([^\"]*)\"", line) or re.match(r"^()(\d+) ", line)
        if match is None:
            continue
        if not match.group(1):
            province = match.group(2)
            continue
        ranges: list[_Validity] = []
        for part in match.group(3).split(","):
            bounded = re.match(r"^\[(\d*)-(\d*)\](.*)$", part)
            if bounded is None:
                ranges.append((0, 9999, part))
            else:
                first, last, name = bounded.groups()
                ranges.append((int(first or 0), int(last or 9999), name))
        table[province + match.group(2)] = tuple(ranges)
    return table


def division_name(code: str, year: int) -> str | None:
    """The name a division code had in ``year``, or None when it was not assigned then."""
    for first, last, name in _division_table().get(code, ()):
        if first <= year <= last:
            return name
    return None


@cache
def _codes_by_prefix() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for code in _division_table():
        if not code.endswith("00"):
            grouped.setdefault(code[:4], []).append(code)
    return {prefix: tuple(codes) for prefix, codes in grouped.items()}


def _lookup_district(prefix: str, name: str) -> str:
    for code in _codes_by_prefix().get(prefix, ()):
        if division_name(code, 2026) == name:
            return code
    raise LookupError(f"no current division named {name} under {prefix}")


def _city_prefix(province: str, city: str) -> str:
    for code in _division_table():
        if code.endswith("00") and not code.endswith("0000") and division_name(code, 2026) == city:
            return code[:4]
    # Municipalities list their districts under <province>01.
    for code in _division_table():
        if code.endswith("0000") and division_name(code, 2026) == province:
            return code[:2] + "01"
    raise LookupError(f"no division code for {province}{city}")


@cache
def cities() -> tuple[City, ...]:
    """Every demo city, its districts resolved to their current administrative codes."""
    result = []
    for province, name, weight, districts in _CITY_TABLE:
        prefix = _city_prefix(province, name)
        resolved = tuple(District(d, _lookup_district(prefix, d), roads) for d, roads in districts.items())
        result.append(City(province, name, prefix, weight, resolved))
    return tuple(result)


@cache
def stores() -> tuple[Store, ...]:
    """One store per demo city and a second in its first district for the biggest cities."""
    result: list[Store] = []
    for city in cities():
        picks = city.districts[:2] if city.weight >= 8 else city.districts[:1]
        for district in picks:
            label = district.name.removesuffix("新区").removesuffix("区")
            result.append(Store(f"S{len(result) + 1:02d}", f"{city.short}{label}店", city.name))
    return tuple(result)


def street_address(city: City, district: District, rng: random.Random) -> str:
    """A full address: province, city, district, road, number and often a flat."""
    head = city.name if city.province == city.name else city.province + city.name
    road = rng.choice(district.roads)
    number = rng.randint(1, 999)
    if rng.random() < 0.75:
        community = rng.choice(_COMMUNITY_WORDS) + rng.choice(_COMMUNITY_KINDS)
        flat = f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
        return f"{head}{district.name}{road}{number}号{community}{flat}"
    return f"{head}{district.name}{road}{number}号"


def id_region_code(city: City, district: District, birth_year: int, rng: random.Random) -> str:
    """The six-digit region of an ID number: mostly where the person lives, else a random county.

    Codes change over time (districts are merged and renamed), so only a code that was assigned in
    the birth year is used, which is what stdnum checks.
    """
    if rng.random() < 0.7:
        if division_name(district.code, birth_year) is not None:
            return district.code
        local = _assigned_codes(city.prefix, birth_year)
        if local:
            return rng.choice(local)
    prefixes = _prefixes()
    while True:
        valid = _assigned_codes(rng.choice(prefixes), birth_year)
        if valid:
            return rng.choice(valid)


@cache
def _prefixes() -> tuple[str, ...]:
    return tuple(sorted(_codes_by_prefix()))


@cache
def _assigned_codes(prefix: str, year: int) -> tuple[str, ...]:
    return tuple(c for c in _codes_by_prefix()[prefix] if division_name(c, year) is not None)
