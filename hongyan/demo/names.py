"""Invented but plausible names for the demo city (people, compounds, natural villages)."""

SURNAMES = "王李张刘赵杨高郭马乔韩任白云贾吴孙周徐胡朱何郝武梁宋石田冯韦苏岳邢董薛史侯段康闫温杜常"
GIVEN = "建国志强秀英丽娟海峰晓红玉兰文华桂芳永军春梅宏伟丽萍俊杰淑珍明亮艳荣秀梅瑞金凤霞"
MONGOLIAN = (
    "巴特尔",
    "乌云其其格",
    "苏日娜",
    "斯琴",
    "额尔敦",
    "其木格",
    "宝音",
    "那仁",
    "图雅",
    "阿拉坦",
    "萨仁",
    "敖登",
    "朝鲁",
    "额日和",
    "哈斯",
)
COMPOUND_HEADS = (
    "恩和",
    "怀远",
    "泉山",
    "白泉",
    "虎山",
    "新华",
    "民建",
    "幸福",
    "阳光",
    "锦绣",
    "康乐",
    "安居",
    "和谐",
    "盛世",
    "春晖",
    "金桥",
    "银河",
    "丽都",
    "北苑",
    "南苑",
    "东方",
    "西城",
    "嘉和",
    "瑞祥",
    "福泰",
    "园丁",
    "电业",
    "铁路",
    "供销",
    "粮食",
    "教育",
    "税务",
    "医院",
    "纺织",
    "建材",
    "察哈尔",
    "乌兰",
    "霸王河",
    "滨河",
    "工农",
    "团结",
    "胜利",
    "兴旺",
    "体育场",
    "公园",
    "广场",
    "新区",
    "御景",
    "天骄",
    "草原",
    "苁蓉",
    "红山",
    "马莲",
)
COMPOUND_TAILS = (
    "小区",
    "花园",
    "家园",
    "苑",
    "雅居",
    "新村",
    "佳园",
    "华府",
    "嘉园",
    "名苑",
    "公寓",
)
VILLAGE_HEADS = "王李张刘赵杨高郭马乔韩任白贾吴孙周徐胡朱前后东西南北大小上下"
VILLAGE_TAILS = ("家村", "营子", "家营子", "窑子", "沟", "湾", "卜子", "圪旦", "梁", "滩", "庄")
DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (enough for grid and branch numbers)."""
    if n < 10:
        return DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else DIGITS[tens]) + "十" + ("" if ones == 0 else DIGITS[ones])


def person(rng) -> str:
    if rng.random() < 0.15:
        return rng.choice(MONGOLIAN)
    given_len = rng.choice((1, 2, 2))
    start = rng.randrange(0, len(GIVEN) - given_len + 1)
    return rng.choice(SURNAMES) + GIVEN[start : start + given_len]


def _unique(rng, used: set[str], make) -> str:
    for _ in range(50):
        name = make()
        if name not in used:
            used.add(name)
            return name
    name = make() + str(len(used) + 1)  # many compounds in one community: number them
    used.add(name)
    return name


def compound(rng, used: set[str]) -> str:
    def make():
        tail = rng.choice(COMPOUND_TAILS)
        if rng.random() < 0.2:
            return f"{rng.choice(COMPOUND_HEADS)}路{rng.randint(1, 60)}号院"
        return rng.choice(COMPOUND_HEADS) + tail

    return _unique(rng, used, make)


def natural_village(rng, used: set[str]) -> str:
    def make():
        head = rng.choice(VILLAGE_HEADS)
        if rng.random() < 0.3:
            head = rng.choice("二三四五六七八") + "道"
        return head + rng.choice(VILLAGE_TAILS)

    return _unique(rng, used, make)
