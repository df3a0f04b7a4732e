"""A county notice as an office receives it, written by the tests: 宜政办〔2024〕9号 of 宜川县.

Monthly reports due on the 25th to the county's 督查室, a monthly bulletin, units named by
their common abbreviations (县发改委, 县住建局, 县城管局, 县教体局, 县应急局, 县人社局), a
list sharing its 县 prefix (县财政局、自然资源局), a town, a group (各乡镇) and a unit named as the
city names it (市生态环境局宜川分局), which a county's units directory does not hold.
"""

from __future__ import annotations

from pathlib import Path

DOC_NUMBER = "宜政办〔2024〕9号"
ISSUER = "宜川县人民政府办公室"
SCOPE = "宜川县"
OFFICE_EMAIL = "ycxdcs@163.com"

NOTICE = """\
宜政办〔2024〕9号

宜川县人民政府办公室
关于印发宜川县2024年重点工作任务分解方案的通知

各乡镇人民政府、丹州街道办事处，县政府各工作部门、各直属机构：

《宜川县2024年重点工作任务分解方案》已经县政府同意，现印发给你们，请认真抓好落实。

宜川县人民政府办公室
2024年3月1日

宜川县2024年重点工作任务分解方案

为确保县委、县政府2024年各项重点工作落到实处，现将重点工作任务分解如下：

一、扎实推进项目建设
1. 全年谋划储备重点项目100个以上，争取中省资金5亿元以上。
牵头单位：县发改委
配合单位：县财政局、自然资源局
完成时限：2024年12月底前
2. 加快推进城区老旧小区改造，完成改造小区12个。
牵头单位：县住建局
责任单位：丹州街道
完成时限：2024年10月底前
二、持续改善民生
3. 新增城镇就业1200人，城镇登记失业率控制在4.5%以内。
牵头单位：县人社局
完成时限：2024年12月底前
4. 推进县城背街小巷整治提升，完成整治20条。
牵头单位：县城管局
配合单位：县住建局、丹州街道
完成时限：2024年9月底前
5. 新建改扩建幼儿园3所，新增学位600个。
牵头单位：县教体局
完成时限：2024年8月底前
6. 开展安全生产治本攻坚三年行动，全年不发生较大以上生产安全事故。
牵头单位：县应急局
配合单位：各乡镇
完成时限：长期坚持
7. 完成黄河流域生态环境问题整改，县城空气质量优良天数达到300天以上。
牵头单位：市生态环境局宜川分局
完成时限：2024年12月底前
三、保障措施
（一）强化组织领导。各牵头单位要明确分管领导和具体责任人，制定推进计划，确保按期完成。
（二）严格督查考核。各牵头单位要于每月25日前将重点工作进展情况以工作台账形式报送县政府督查室（电子邮箱：ycxdcs@163.com）。县政府督查室每月通报一次工作进展情况，通报结果纳入年度目标责任考核。
联系人：李娜，联系电话：0911-4821234。
"""

#: the units the notice leads with, by the canonical names `units add` gives them
LEADS = {
    "县发改委": "县发展和改革委员会",
    "县住建局": "县住房和城乡建设局",
    "县人社局": "县人力资源和社会保障局",
    "县城管局": "县城市管理局",
    "县教体局": "县教育和体育局",
    "县应急局": "县应急管理局",
}


def write_notice(folder: Path, name: str = "宜政办〔2024〕9号.txt") -> Path:
    """The notice as a UTF-8 text file in *folder* (as copied out of the office's PDF)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(NOTICE, encoding="utf-8")
    return path
