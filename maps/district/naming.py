"""Fictional names and the road tag sets every generated way is labelled with.

Names are generic pinyin / Chinese words combined by index, so the same layout always gets
the same names and no name is a real street's. Road classes map to the lanes and speed
limits documented in maps/README.md.
"""

from __future__ import annotations

# Pinyin / Chinese words for fictional names; generic words, not real street names.
WORDS = [
    ("Wenhua", "文化"), ("Jianshe", "建设"), ("Renmin", "人民"), ("Heping", "和平"),
    ("Xinhua", "新华"), ("Gongye", "工业"), ("Chaoyang", "朝阳"), ("Changcheng", "长城"),
    ("Minzhu", "民主"), ("Youyi", "友谊"), ("Shengli", "胜利"), ("Guangming", "光明"),
    ("Jiefang", "解放"), ("Fuxing", "复兴"), ("Qingnian", "青年"), ("Xingfu", "幸福"),
    ("Anning", "安宁"), ("Huanghe", "黄河"), ("Hongqi", "红旗"), ("Taiyang", "太阳"),
    ("Dongfeng", "东风"), ("Xiyuan", "西苑"), ("Nanhu", "南湖"), ("Beiyuan", "北苑"),
    ("Tianxiang", "天祥"), ("Kuangye", "矿业"), ("Meitan", "煤炭"), ("Huimin", "惠民"),
    ("Kangle", "康乐"), ("Ronghua", "荣华"), ("Jinshan", "金山"), ("Yinhe", "银河"),
    ("Songshan", "松山"), ("Baita", "白塔"), ("Qingshan", "青山"), ("Lvyuan", "绿苑"),
    ("Changan", "长安"), ("Xinglong", "兴隆"), ("Yongning", "永宁"), ("Taihe", "泰和"),
    ("Fengqing", "丰庆"), ("Shuguang", "曙光"), ("Huaxia", "华夏"), ("Jinxiu", "锦绣"),
]
ZONE_WORDS = [("Wenchang", "文昌"), ("Yingbin", "迎宾"), ("Chaoyang", "朝阳"), ("Gongnong", "工农"),
              ("Heping", "和平"), ("Xinhua", "新华"), ("Shengli", "胜利")]
TOWN_WORD = ("Hongguo", "红果")
DRIVE_TAGS = {  # highway class -> (total lanes, maxspeed km/h)
    "trunk": (6, 80), "primary": (6, 60), "secondary": (4, 50), "tertiary": (2, 40),
    "residential": (2, 30), "unclassified": (2, 40),
}


def word(k: int) -> tuple[str, str]:
    """The k-th fictional name word as (pinyin, Chinese); numbered once WORDS runs out."""
    w, z = WORDS[k % len(WORDS)]
    n = k // len(WORDS)
    return (w, z) if n == 0 else (f"{w} {n + 1}", f"{z}{n + 1}")


def road(hw: str, name: str, zh: str, **extra: str) -> dict[str, str]:
    """OSM tags of a drivable way of class ``hw`` (a DRIVE_TAGS key), names and ``extra``."""
    lanes, vmax = DRIVE_TAGS[hw]
    return {"highway": hw, "lanes": str(lanes), "maxspeed": str(vmax), "name": name,
            "name:zh": zh, **extra}
