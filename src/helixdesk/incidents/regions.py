"""Regions as incidents name them: a city or a province, in Chinese (either script) or English.

The core bank keeps the customer's city (`bank_customers.city`, e.g. "深圳", "澳門"). An incident may
name that city or its province ("广东", "Guangdong"), so a region is compared by its keys: the
canonical Simplified Chinese name of the city and of the province it lies in. Names outside this
table are compared as written (Traditional folded to Simplified, case and a trailing 市/省 ignored),
so a bank's other cities still match themselves.
"""

from __future__ import annotations

from helixdesk.nlu.text import to_simplified

# canonical name -> (English names, the province it lies in, or None for a province or a city of its own)
_PLACES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "北京": (("beijing", "peking"), None),
    "上海": (("shanghai",), None),
    "天津": (("tianjin",), None),
    "重庆": (("chongqing",), None),
    "广东": (("guangdong",), None),
    "深圳": (("shenzhen",), "广东"),
    "广州": (("guangzhou", "canton"), "广东"),
    "浙江": (("zhejiang",), None),
    "杭州": (("hangzhou",), "浙江"),
    "江苏": (("jiangsu",), None),
    "南京": (("nanjing",), "江苏"),
    "苏州": (("suzhou",), "江苏"),
    "四川": (("sichuan",), None),
    "成都": (("chengdu",), "四川"),
    "湖北": (("hubei",), None),
    "武汉": (("wuhan",), "湖北"),
    "陕西": (("shaanxi",), None),
    "西安": (("xi'an", "xian"), "陕西"),
    "香港": (("hong kong", "hongkong", "hk"), None),
    "澳门": (("macau", "macao"), None),
    "台湾": (("taiwan",), None),
    "台北": (("taipei",), "台湾"),
}
_ALIASES: dict[str, str] = {
    **{name: name for name in _PLACES},
    **{alias: name for name, (english, _) in _PLACES.items() for alias in english},
}


def _folded(name: str) -> str:
    text = " ".join(to_simplified(name).split()).casefold()
    if len(text) > 2 and text[-1] in "市省":
        text = text[:-1]
    return text


def canonical_region(name: str) -> str:
    """The region's key: "廣東省" -> "广东", "Shenzhen" -> "深圳"; an unknown name folded as it is."""
    folded = _folded(name)
    return _ALIASES.get(folded, folded)


def region_keys(city: str | None) -> frozenset[str]:
    """Every region a customer's city lies in: itself and its province ("深圳" -> {深圳, 广东})."""
    if not city or not city.strip():
        return frozenset()
    key = canonical_region(city)
    province = _PLACES.get(key, ((), None))[1]
    return frozenset({key, province} if province else {key})
