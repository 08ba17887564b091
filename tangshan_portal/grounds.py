"""The legal grounds of Articles 12 and 13, with the regulation's own wording.

The wording is quoted verbatim (line breaks of the PDF removed) because notices, decisions and the public
blacklist must cite the rule exactly; the short labels are the portal's own and are translated.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Art12Ground(models.IntegerChoices):
    UNREPORTED_CHANGE = 1, _("Art 12(1) unreported major registration change")
    SERVICE_FAILURE = 2, _("Art 12(2) inadequate team or service, causing complaints")
    SOLUTION_OR_PRICE = 3, _("Art 12(3) incomplete solution or list, inaccurate or inflated prices")
    RESULT_DEVIATION = 4, _("Art 12(4) results deviate from the plan, acceptance not passed")
    NON_COOPERATION = 5, _("Art 12(5) refusing to cooperate with third-party evaluation or supervision")
    OTHER = 6, _("Art 12(6) unfair competition or other causes")


ART12_WORDING = {
    1: "名称、住所、法定代表人、经营范围以及注册资本等内容发生较大变更，未及时向{authority}报告说明",
    2: "人员能力不足或团队配置不合理、对接和进驻试点企业不及时、服务不能满足试点企业需求、未按合同要求服务试点企业，"
    "以及其他原因造成试点企业投诉",
    3: "提供的解决方案和软件采购清单中，项目清单不完整，具体功能、用途和费用罗列不准确，随意调整或者故意抬高标准化产品"
    "（服务）的同期市场价格",
    4: "改造成效与实施方案存在明显偏差，无法通过企业验收，但尚未对试点企业数字化转型目标产生重大影响",
    5: "服务过程中拒不配合第三方支撑机构开展评测、验收、监理工作",
    6: "不符合市场公平竞争条件事项或其他原因",
}

ART12_PREAMBLE = "服务商出现以下情况，应限期整改，整改期限一般不超过 30 日。"


class Art13Ground(models.IntegerChoices):
    RECTIFICATION = 1, _("Art 13(1) rectification ordered more than twice, or refused")
    DISSATISFIED = 2, _("Art 13(2) “dissatisfied” ratings reached the limit")
    SCHEDULE_LAG = 3, _("Art 13(3) performance far behind the time-proportional schedule")
    LEAK = 4, _("Art 13(4) leaking trade secrets, core technology or sensitive data")
    FRAUD = 5, _("Art 13(5) forged contracts, sham transactions or fund fraud")
    UNFAIR_COMPETITION = 6, _("Art 13(6) unfair competition, harming enterprises or defaming providers")
    FALSE_ADVERTISING = 7, _("Art 13(7) false advertising, mismatched products or services")
    PRICE_DISRUPTION = 8, _("Art 13(8) drastic price changes disrupting the market")
    SERIOUS_VIOLATION = 9, _("Art 13(9) serious violations or other causes")


ART13_WORDING = {
    1: "限期整改超过 2 次或限期拒不进行整改",
    2: "试点企业对服务商满意度评价“不满意”次数达到 2 次",
    3: "绩效目标完成序时进度差距较大",
    4: "泄露试点企业商业秘密、核心技术或敏感信息",
    5: "伪造服务合同，联合相关方进行虚假交易，恶意套取项目资金",
    6: "采取不正当竞争手段、损害试点企业或恶意诋毁其他服务商的",
    7: "虚假宣传，向企业提供不匹配的产品和服务",
    8: "通过大幅度修改服务/产品价格，扰乱市场，恶意竞争",
    9: "有严重违法违纪行为或其他原因",
}

ART13_CONSEQUENCE = "取消服务商资格，并列入我市数字化服务商黑名单，在局官网上予以公告，不得享受相关奖补政策支持，情节严重的依法依规处理。"  # noqa: E501 (quoted verbatim)

# The grounds the rule engine detects from the data; the others need an officer's finding.
ENGINE_GROUNDS = (Art13Ground.RECTIFICATION, Art13Ground.DISSATISFIED, Art13Ground.SCHEDULE_LAG)

CHINESE_NUMERALS = "一二三四五六七八九"


def cite_art12(ground):
    """E.g. 《…管理规范（试行）》第十二条第（二）项：人员能力不足……"""
    from django.conf import settings

    wording = ART12_WORDING[int(ground)].format(authority=settings.PORTAL_AUTHORITY_NAME)
    return f"《{settings.PORTAL_REGULATION_TITLE}》第十二条第（{CHINESE_NUMERALS[int(ground) - 1]}）项：{wording}"


def cite_art13(ground):
    from django.conf import settings

    wording = ART13_WORDING[int(ground)]
    return f"《{settings.PORTAL_REGULATION_TITLE}》第十三条第（{CHINESE_NUMERALS[int(ground) - 1]}）项：{wording}"
