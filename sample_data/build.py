"""Builds the sample campaign folder from content.py: `python sample_data/build.py [ROOT]` (seeded, byte-identical).

Writes ROOT/campaign.xlsx, then ROOT/inbox/: the units' filled returns, made from the templates
(`pipeline.templates.write_template` with a `Fill`), as they would arrive by email; then ROOT/review/: the
bloc heads' completed review and vote workbooks (below).

Scores follow content.PROFILES (a unit's strength p): a judged score near p·max (×0.93-1.05) rounded to its
step; a pass/fail criterion passed with probability p + 0.1; a deduction criterion's occurrences mostly 0, more
often 1-2 for weaker units. Target criteria (chỉ tiêu) are scored against the target T and the bloc's best:
below T half marks scaled down, at T half marks, the best full marks. A rate with T = 100 % and the count of
the 10 registered key tasks cannot go past T, so there the best is T and meeting it earns full marks: units
with p ≥ 0.88 meet them, weaker ones fall short (≈ 0.5·M). The digital-signature rate (T = 95 %) can be
beaten: actual ≈ (p + 0.04)·100 %, capped at 100. So p ≥ 0.93 gives about 95+ (Xuất sắc), 0.88-0.92 about 85-94
(Tốt), below that 70-84 (Khá). The score draws of a unit come from a generator seeded by its bloc, profile and
the criterion code, so two units of one bloc with the same profile enter identical scores (NC01 = NC07,
VX01 = VX02). Everything else (explanations, file names, received times) comes from the single generator
random.Random(2025), units in campaign order.

Faulty returns (FAULTS; every other unit sends a clean return):
- KT04: điểm tiêu chí I.1.c gõ dạng văn bản có dấu phẩy thập phân ("9,5"): đọc được 9.5, kèm cảnh báo.
- VX07: tự chấm tiêu chí I.2.a 6,5 điểm, vượt điểm tối đa 6.
- NC05: bỏ trống giải trình tiêu chí I.2.c (bắt buộc giải trình).
- KT06: dùng mẫu cũ năm 2024 (_meta template_version 2024.1, criteria_digest 0000000000000000).
- VX09: gửi hai bản: "VX09 tu cham.xlsx" (nhận 05/12/2025 09:00, I.1.c tự chấm 10,5) rồi bản
  sửa "VX09 tu cham (sua lan 2).xlsx" (nhận 08/12/2025 15:30, I.1.c 9,5): bản sau là bản đúng.
- KT07: gửi muộn, nhận 12/12/2025 10:00 (hạn 10/12/2025).
- DN03: không gửi bản tự chấm.
- Tệp "Danh sach dai bieu du hoi nghi.xlsx": không phải bản tự chấm (danh sách đại biểu gửi nhầm vào hộp thư).

Registration forms (registration_forms): bloc VX's units registered with the start-of-year form; the returned
forms sit in inbox/dang-ky/ (received January 2025) and are collected with the returns. VX05 typed "có" instead of
x (read as registered, with a warning). The other blocs' registrations are typed on campaign.xlsx's `Đăng ký`.

Re-running replaces every inbox/*.xlsx and inbox/dang-ky/*.xlsx (the builder owns them); other files in inbox/
are left alone; ROOT/out/
(made from the previous inbox) is removed.
Every inbox file gets a fixed modification time (its "received" time, local time written as UTC):
on-time returns between 01/12 and 09/12/2025, office hours.

Completed reviews (write_reviews): `thidua collect` and `thidua review` run on a temporary copy of the campaign
(REVIEW_MADE, 15/12/2025), then each out/review/<bloc>.xlsx edited with openpyxl as its bloc head would in
Excel (REVIEWS: a few reviewed scores lowered; BALLOTS: the conference's vote) and saved to
ROOT/review/<bloc>.xlsx with fixed document and zip times (REVIEWERS). Re-running replaces review/*.xlsx.

The year end this gives (`make rank`), bloc by bloc:
- NC (8 units; NC05 not ranked): NC04 leads (≈ 98, Xuất sắc, 7/8 votes): the flag. NC07 and NC01 tie on the
  total and on group I; NC01 declared a discipline deduction (D2) that its bonus (T2) offsets, so the chain
  (fewer deductions) puts NC07 2nd and NC01 3rd: both the certificate of merit (quota 20 % × 8 = 1,6 → 2).
  NC02 4th: Giấy khen. The head lowered NC08 I.2.c and NC03 II.1.b, with notes. The conference elected
  NC01 head and NC02 deputy for 2026.
- KT (10 units; KT06 not ranked): KT09 scores highest (≈ 99) but is under investigation (Decree 152/2025):
  held back from the flag and the Giấy khen; the conference gave it 2 votes and KT01 6: the one vote conflict
  (leader_vote_missed, outvoted). No flag is proposed. KT01 2nd and KT07 3rd: the certificate of merit
  (KT07 registered only for the flag: a warning). KT03, 4th with bonuses, Xuất sắc in 2024 and 2025: the
  certificate through two excellent years. KT02 5th: Giấy khen. The head took 0,5 off KT07 IV.4 for its late
  return, 1 off KT05 I.2.a with a note, and 3 off KT08 I.1.c WITHOUT a note (over the 2-point tolerance: a
  warning). Head and deputy not elected: the rotation makes KT03 head, KT04 deputy.
- VX (10 units; VX07 not ranked): VX03 leads (≈ 99, 8/10 votes): the flag. VX06 2nd: the certificate of
  merit. VX01 and VX02 stay tied 3rd (equal on every key, no votes either), at the quota's boundary (2): both
  held back from the certificate for the conference, both proposed for Giấy khen, as is VX04 5th. The head
  lowered VX09 I.1.c by 2,5 (over the tolerance, with a note) and VX05 I.2.c. Elected: VX03 head, VX06 deputy.
- DN (3 units; DN03 sent nothing): DN01 leads (≈ 97, 3/3 votes) but registered only for the certificate of
  merit: held back from the flag ("không đăng ký"), proposed for the certificate through two excellent years
  (2024-2025). DN02 2nd: the certificate of merit, its quota 20 % × 3 = 0,6 rounded up to 1. No adjustment;
  not elected: DN02 head, DN03 deputy by rotation.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import os
import random
import shutil
import sys
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import content as C  # noqa: E402

import openpyxl  # noqa: E402
import xlsxwriter  # noqa: E402
from openpyxl.writer.excel import ExcelWriter  # noqa: E402

from pipeline.campaign import Campaign, Criterion, Unit  # noqa: E402
from pipeline.campaign_book import write_campaign  # noqa: E402
from pipeline.check import load_checked  # noqa: E402
from pipeline.registration import write_registration  # noqa: E402
from pipeline.templates import Fill, computed, write_template  # noqa: E402
from pipeline.workflow import run_collect, run_review  # noqa: E402
from schemas import review as V  # noqa: E402

CAMPAIGN = HERE / "quang-tri-2025"
SEED = 2025
GENERATED_AT = dt.datetime(2025, 11, 20, 8, 0, 0)

FAULTS = {
    "KT04": "Điểm tiêu chí I.1.c gõ dạng văn bản có dấu phẩy thập phân (\"9,5\")",
    "VX07": "Tự chấm tiêu chí I.2.a 6,5 điểm, vượt điểm tối đa (6 điểm)",
    "NC05": "Bỏ trống giải trình tiêu chí I.2.c (tiêu chí bắt buộc giải trình)",
    "KT06": "Dùng mẫu cũ năm 2024 (phiên bản mẫu 2024.1, bộ tiêu chí khác)",
    "VX09": "Gửi hai bản: \"VX09 tu cham.xlsx\" (05/12/2025) và bản sửa \"VX09 tu cham (sua lan 2).xlsx\" "
            "(08/12/2025, bản đúng), khác nhau điểm tiêu chí I.1.c",
    "KT07": "Gửi muộn: nhận ngày 12/12/2025, sau hạn 10/12/2025",
    "DN03": "Không gửi bản tự chấm",
}
NOT_A_RETURN = "Danh sach dai bieu du hoi nghi.xlsx"
VX09_FIRST, VX09_SECOND = "VX09 tu cham.xlsx", "VX09 tu cham (sua lan 2).xlsx"

# Bonus claims and declared deductions: unit -> item code -> (points, explanation).
ITEMS = {
    "KT01": {"T2": (1, "Được Bộ trưởng Bộ Tài chính tặng Bằng khen về thành tích quản lý ngân sách năm 2024 "
                       "(Quyết định số 1124/QĐ-BTC ngày 12/5/2025).")},
    "KT03": {"T1": (2, "Chủ trì tham mưu ứng phó, khắc phục thiệt hại nông nghiệp do bão số 5 và đợt mưa lũ tháng "
                       "10/2025; được UBND tỉnh biểu dương tại Văn bản số 5120/UBND-NN và Văn bản số 6034/UBND-NN."),
             "T3": (0.5, "Sáng kiến \"Số hóa bản đồ vùng trồng phục vụ cấp mã số vùng trồng\" được Hội đồng sáng kiến "
                         "tỉnh công nhận (Quyết định số 2310/QĐ-HĐSK).")},
    "KT09": {"T1": (1, "Hoàn thành giải phóng mặt bằng, bàn giao sớm 2 tháng tuyến đường ven biển đoạn qua "
                       "xã Triệu Phong theo chỉ đạo đột xuất của UBND tỉnh.")},
    "NC01": {"T2": (1, "Được Bộ trưởng Bộ Công an tặng Cờ thi đua năm 2024 (Quyết định số 1768/QĐ-BCA ngày "
                       "14/3/2025)."),
             "D2": (1, "02 cán bộ, chiến sĩ bị xử lý kỷ luật hình thức khiển trách (Quyết định số 85/QĐ-CAT và "
                       "số 112/QĐ-CAT năm 2025).")},
    "NC02": {"T1": (1, "Huy động lực lượng, phương tiện tham gia cứu hộ, cứu nạn, sơ tán nhân dân trong bão số 5; "
                       "được Chủ tịch UBND tỉnh tặng Bằng khen đột xuất.")},
    "NC06": {"T4": (1, "Đăng cai tổ chức đợt kiểm tra chéo công tác thi đua của Khối Nội chính tháng 11/2025.")},
    "VX03": {"T4": (1, "Đăng cai Hội thao Khối thi đua các sở văn hóa - xã hội năm 2025."),
             "T3": (0.5, "Giải pháp \"Bản đồ số du lịch Quảng Trị\" được công nhận sáng kiến cấp tỉnh.")},
    "VX06": {"T2": (1, "Được Tổng Giám đốc Bảo hiểm xã hội Việt Nam tặng Cờ thi đua năm 2024 "
                       "(Quyết định số 356/QĐ-BHXH ngày 20/02/2025).")},
    "VX08": {"T1": (1, "Kịp thời khoanh vùng, dập dịch sốt xuất huyết tại 04 xã trong tháng 8-9/2025 theo chỉ đạo "
                       "đột xuất của UBND tỉnh.")},
    "DN01": {"T3": (1, "02 sáng kiến được công nhận cấp tỉnh: phần mềm quản lý đại lý vé số; quy trình quay số mở "
                       "thưởng trực tiếp.")},
    "NC08": {"D1": (1, "Bị UBND tỉnh phê bình tại Văn bản số 4418/UBND-NC do chậm tổ chức thi hành một số vụ việc "
                       "có điều kiện thi hành.")},
    "KT10": {"D1": (1, "Bị UBND tỉnh phê bình tại Văn bản số 3902/UBND-KT về tiến độ giải ngân vốn đầu tư công "
                       "6 tháng đầu năm 2025.")},
    "VX10": {"D2": (0.5, "01 viên chức bị xử lý kỷ luật hình thức khiển trách (Quyết định số 88/QĐ-CĐQT).")},
}

# The completed reviews. `thidua review` is run on 15/12/2025; each bloc head fills in the workbook after the
# cross-check and the year-end conference and sends it back: bloc -> (last saved by, when).
REVIEW_MADE = dt.datetime(2025, 12, 15, 8, 0)
REVIEWERS = {
    "NC": ("Văn phòng Viện kiểm sát nhân dân tỉnh Quảng Trị", dt.datetime(2025, 12, 18, 16, 45)),
    "KT": ("Văn phòng Sở Tài chính tỉnh Quảng Trị", dt.datetime(2025, 12, 19, 10, 20)),
    "VX": ("Văn phòng Sở Y tế tỉnh Quảng Trị", dt.datetime(2025, 12, 18, 9, 30)),
    "DN": ("Phòng Tổ chức - Hành chính, Công ty TNHH MTV Xổ số kiến thiết Quảng Trị", dt.datetime(2025, 12, 17, 15, 0)),
}
# Bonus and deduction rows the bloc head set: bloc -> [(unit, item, reviewed points, note)]. KT08 declared no
# written criticism; the bloc found one.
CLAIMS = {
    "KT": [("KT08", "D1", 1.0, "Bị UBND tỉnh phê bình tại Văn bản số 1532/UBND-KT ngày 14/8/2025 về chậm giải ngân "
                               "vốn đầu tư công; đơn vị chưa kê khai.")],
}
# Reviewed scores the bloc head lowered: bloc -> [(unit, criterion, points taken off the self score, note)].
# Every other reviewed score stays as pre-filled (the self score).
REVIEWS = {
    "NC": [
        ("NC08", "I.2.c", 1.0, "Chưa có minh chứng văn bản của Tỉnh ủy, UBND tỉnh giao 02 nhiệm vụ đột xuất đơn vị "
                               "kê khai; chấm theo kết quả kiểm tra chéo ngày 16/12/2025."),
        ("NC03", "II.1.b", 0.5, "Chưa có văn bản đánh giá, xếp loại Chi đoàn cơ quan năm 2025 của Tỉnh đoàn."),
    ],
    "KT": [
        ("KT07", "IV.4", 0.5, "Gửi bản tự chấm điểm chậm so với thời hạn (nhận ngày 12/12/2025, hạn 10/12/2025): "
                              "trừ 0,5 điểm theo tiêu chí IV.4."),
        ("KT05", "I.2.a", 1.0, "Đề án phát triển thị trường khoa học và công nghệ trình chậm so với Chương trình công "
                               "tác năm 2025 của UBND tỉnh (Tờ trình số 215/TTr-SKHCN ngày 28/10/2025)."),
        ("KT08", "I.1.c", 3.0, ""),  # more than the tolerance and no note: rank shows a warning
    ],
    "VX": [
        ("VX09", "I.1.c", 2.5, "Báo cáo kết quả thực hiện nhiệm vụ chuyên môn chưa kèm minh chứng; tỷ lệ người bệnh "
                               "chuyển tuyến còn cao so với kế hoạch (Báo cáo số 412/BC-SYT ngày 05/12/2025 của Sở Y "
                               "tế)."),
        ("VX05", "I.2.c", 0.75, "01 nhiệm vụ đột xuất kê khai chưa có văn bản giao nhiệm vụ của Tỉnh ủy, UBND tỉnh."),
    ],
    "DN": [],
}
# The year-end conference's vote as the secretary records it: units present, ballots issued and valid; votes to
# lead the bloc (suy tôn; members not named got none); next year's head and deputy where the conference
# elected them (KT and DN did not: the rotation applies).
BALLOTS = {
    "NC": {"present": 8, "issued": 8, "valid": 8, "leader": {"NC04": 7, "NC07": 1},
           "head": {"NC01": 6, "NC07": 2}, "deputy": {"NC02": 5, "NC03": 3}},
    # The top scorer, KT09, is under investigation: the conference votes for KT01 (the conflict for the council).
    "KT": {"present": 9, "issued": 9, "valid": 8, "leader": {"KT01": 6, "KT09": 2}},
    "VX": {"present": 10, "issued": 10, "valid": 10, "leader": {"VX03": 8, "VX06": 2},
           "head": {"VX03": 7, "VX06": 3}, "deputy": {"VX06": 6, "VX04": 4}},
    "DN": {"present": 3, "issued": 3, "valid": 3, "leader": {"DN01": 3}},
}

# Explanations: criterion code -> ("ok" sentences, "low" sentences for a score below the maximum).
_OK, _LOW = "ok", "low"
EXPLANATIONS = {
    "I.1.c": {_OK: ["Hoàn thành toàn bộ nhiệm vụ chuyên môn theo kế hoạch; được UBND tỉnh đánh giá cao tại hội nghị "
                    "sơ kết 6 tháng và tổng kết năm."],
              _LOW: ["Một số nhiệm vụ chuyên môn còn chậm tiến độ so với kế hoạch; chất lượng tham mưu ở một vài "
                     "lĩnh vực chưa cao.",
                     "Còn {k:02d} nhiệm vụ chuyên môn chưa hoàn thành đúng hạn, đơn vị đã có văn bản giải trình "
                     "gửi UBND tỉnh.",
                     "Hiệu quả triển khai một số chương trình, đề án của ngành chưa đạt yêu cầu đề ra, "
                     "đang tiếp tục thực hiện trong năm 2026."]},
    "I.2.a": {_OK: ["Tham mưu đầy đủ, đúng thời hạn các đề án, văn bản thuộc Chương trình công tác năm 2025 của "
                    "UBND tỉnh."],
              _LOW: ["Còn 01 đề án trong Chương trình công tác trình chậm so với thời hạn, đã được UBND tỉnh đồng ý "
                     "điều chỉnh thời gian."]},
    "I.2.b": {_OK: ["Ban hành Kế hoạch công tác năm 2025 tại Quyết định số {n}/QĐ ngày {d:02d}/01/2025."],
              _LOW: ["Kế hoạch công tác năm 2025 ban hành chậm so với thời hạn quy định."]},
    "I.2.c": {_OK: ["Tham gia ứng phó, khắc phục hậu quả bão số 5 và mưa lũ cuối năm 2025 theo chỉ đạo của UBND "
                    "tỉnh; hoàn thành các nhiệm vụ đột xuất được giao.",
                    "Thực hiện {k:02d} nhiệm vụ đột xuất do Tỉnh ủy, UBND tỉnh giao; các nhiệm vụ đều hoàn thành "
                    "đúng thời hạn (có báo cáo kết quả kèm theo).",
                    "Tham gia sắp xếp tổ chức bộ máy, vận hành chính quyền địa phương hai cấp từ ngày 01/7/2025 "
                    "theo chỉ đạo của tỉnh; hoàn thành đúng tiến độ."],
              _LOW: ["Thực hiện {k:02d} nhiệm vụ đột xuất được giao; 01 nhiệm vụ hoàn thành chậm so với yêu cầu.",
                     "Hoàn thành các nhiệm vụ đột xuất được giao, tuy nhiên việc báo cáo kết quả có lúc chưa kịp "
                     "thời."]},
    "I.4": {_OK: ["Thực hiện đúng kế hoạch thanh tra, kiểm tra; tiếp công dân định kỳ theo quy định; không có đơn "
                  "thư tồn đọng."],
            _LOW: ["Còn 01 đơn khiếu nại đang trong thời hạn giải quyết, chưa ban hành quyết định giải quyết.",
                   "01 cuộc kiểm tra theo kế hoạch chưa ban hành kết luận trong năm 2025."]},
    "II.1.a": {_OK: ["Đảng bộ cơ quan được xếp loại \"Hoàn thành tốt nhiệm vụ\" năm 2025."],
               _LOW: ["Tổ chức đảng của cơ quan được xếp loại \"Hoàn thành nhiệm vụ\", chưa đạt mức \"Hoàn thành tốt "
                      "nhiệm vụ\"."]},
    "II.1.b": {_OK: ["Công đoàn cơ sở và Chi đoàn cơ quan đều được cấp trên đánh giá hoàn thành tốt nhiệm vụ."],
               _LOW: ["Chi đoàn cơ quan xếp loại hoàn thành nhiệm vụ; hoạt động của Hội Cựu chiến binh còn hạn chế."]},
    "II.1.c": {_OK: ["Tổ chức học tập, quán triệt đầy đủ các nghị quyết; 100% đảng viên viết bài thu hoạch."],
               _LOW: ["Một số đảng viên chưa tham gia đầy đủ các buổi học tập nghị quyết do bận công tác."]},
    "II.2.a": {_OK: ["Hoàn thành 100% nhiệm vụ trong Kế hoạch cải cách hành chính năm 2025."],
               _LOW: ["Việc rà soát, đơn giản hóa thủ tục hành chính còn chậm so với kế hoạch."]},
    "II.2.b": {_OK: ["Không có cán bộ, công chức vi phạm chế độ công vụ, văn hóa công sở."],
               _LOW: ["Có phản ánh của người dân về thái độ ứng xử của công chức tại bộ phận một cửa."]},
    "II.3.b": {_OK: ["Khai thác hiệu quả hệ thống điều hành tác nghiệp và các cơ sở dữ liệu chuyên ngành; hoàn thành "
                     "các nhiệm vụ Đề án 06 được giao."],
               _LOW: ["Cơ sở dữ liệu chuyên ngành chưa được kết nối, chia sẻ đầy đủ với nền tảng dữ liệu của tỉnh."]},
    "III.1": {_OK: ["Ban hành Chương trình thực hành tiết kiệm, chống lãng phí năm 2025 tại Quyết định số "
                    "{n}/QĐ ngày {d:02d}/02/2025; thực hiện tiết kiệm 10% chi thường xuyên."],
              _LOW: ["Chương trình thực hành tiết kiệm, chống lãng phí ban hành chậm; một số chỉ tiêu tiết kiệm "
                     "chưa đạt."]},
    "III.2": {_OK: ["Công khai dự toán, quyết toán ngân sách đúng quy định; 100% người có nghĩa vụ đã kê khai tài "
                    "sản, thu nhập."],
              _LOW: ["Việc công khai quyết toán ngân sách năm 2024 chậm so với thời hạn quy định."]},
    "III.3": {_OK: ["Thực hiện chuyển đổi vị trí công tác định kỳ theo quy định; không phát hiện hành vi tham nhũng, "
                    "tiêu cực."],
              _LOW: ["Kế hoạch chuyển đổi vị trí công tác năm 2025 thực hiện chưa đầy đủ."]},
    "IV.1": {_OK: ["Ký kết giao ước thi đua ngày {d:02d}/3/2025; gửi đăng ký thi đua đúng hạn."],
             _LOW: ["Gửi bản đăng ký thi đua chậm so với thời hạn của Khối."]},
    "IV.2": {_OK: ["Phát hiện, biểu dương {k:02d} tập thể, cá nhân điển hình; hồ sơ khen thưởng đúng quy định, "
                   "không bị trả lại."],
             _LOW: ["Có 01 hồ sơ đề nghị khen thưởng bị trả lại để bổ sung thủ tục.",
                    "Việc nhân rộng điển hình tiên tiến chưa thường xuyên, chưa có nhiều mô hình mới."]},
    "IV.3": {_OK: ["Tham gia đầy đủ các hội nghị, hoạt động và đợt kiểm tra chéo do Khối tổ chức."],
             _LOW: ["Vắng 01 buổi sinh hoạt Khối do trùng lịch công tác của lãnh đạo đơn vị."]},
}


def _vn(x: float, digits: int = 1) -> str:
    """A number as a Vietnamese writes it: 96,5 and 100."""
    return f"{round(x, digits):g}".replace(".", ",")


def _ascii(s: str) -> str:
    """The name without diacritics, as many people type a file name."""
    s = unicodedata.normalize("NFD", s.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _round_step(x: float, step: float) -> float:
    """To the nearest step, halves up."""
    return round(math.floor(x / step + 0.5 + 1e-9) * step, 4)


# --- scores --------------------------------------------------------------------------------------

def draw_scores(campaign: Campaign, unit: Unit, p: float) -> tuple[dict, dict]:
    """Self scores and actual results from the unit's profile: same bloc and profile, same draws per criterion."""
    scores, actuals = {}, {}
    for k in campaign.criteria_for(unit):
        if not k.kind:
            continue
        r = random.Random(f"{unit.bloc}|{p:.2f}|{k.code}")
        if k.kind == "điểm":
            step = k.step or 0.01
            scores[k.code] = min(k.max, _round_step(p * k.max * r.uniform(0.93, 1.05), step))
        elif k.kind == "đạt/không đạt":
            scores[k.code] = k.max if r.random() < p + 0.1 else 0
        elif k.kind == "chỉ tiêu":
            actuals[k.code] = _actual(k, p, r)
        elif k.kind == "trừ điểm":
            n = 0
            if r.random() < (1 - p) * 2.5:
                n = 2 if r.random() < 0.3 else 1
            actuals[k.code] = n
    return scores, actuals


def _actual(k: Criterion, p: float, r: random.Random) -> float:
    """A target's actual result. A rate can reach 100 % and a count of registered tasks its target, no more:
    there the bloc's best is the target and meeting it earns full marks; falling short, even by a little,
    earns 0.5·M·A/T. Strong and middle units meet them, weak ones fall short. A target below 100 % (the
    digital signature rate, 95 %) can be exceeded: the strongest units beat it and share the top marks."""
    t = k.target or 0.0
    if "(%)" in k.text:
        if t >= 100:
            return min(100.0, round(100 * (p + 0.13 + r.uniform(-0.03, 0.03)), 1))
        return min(100.0, round(100 * (p + 0.04 + r.uniform(-0.02, 0.02)), 1))
    return float(min(t, round(t * (1 + 2.5 * (p - 0.9) + r.uniform(-0.05, 0.05)))))


def draw_explanations(rng: random.Random, campaign: Campaign, unit: Unit, scores: dict, actuals: dict) -> dict:
    out = {}
    for k in campaign.criteria_for(unit):
        if not k.kind:
            continue
        text = _explain(rng, k, scores.get(k.code), actuals.get(k.code))
        if text:
            out[k.code] = _nfc(text)
    return out


def _explain(rng: random.Random, k: Criterion, score, actual) -> str | None:
    fmt = {"n": rng.randint(12, 480), "d": rng.randint(2, 28), "k": rng.randint(2, 6)}
    wanted = rng.random() < 0.2  # some units explain everything
    if computed(k):
        return _explain_computed(rng, k, actual, wanted, fmt)
    low = score is not None and score < k.max
    if not (k.explanation == "luôn" or (k.explanation == "khi chưa tối đa" and low) or wanted):
        return None
    pool = EXPLANATIONS.get(k.code)
    if not pool:
        return None
    return rng.choice(pool[_LOW if low else _OK]).format(**fmt)


def _explain_computed(rng, k: Criterion, a, wanted: bool, fmt: dict) -> str | None:
    if k.kind == "trừ điểm":
        if not (k.explanation == "luôn" or a or wanted):
            return None
        what = {"I.5": "nhiệm vụ UBND tỉnh giao bị quá hạn xử lý trên Hệ thống quản lý văn bản và điều hành",
                "III.4": "cán bộ, công chức, viên chức bị nhắc nhở bằng văn bản",
                "IV.4": "lần chậm gửi báo cáo, hồ sơ thi đua cho Trưởng khối"}.get(k.code, "trường hợp vi phạm")
        if not a:
            return rng.choice([f"Trong năm không có {what}.",
                               f"Không có {what} (số liệu đến ngày 30/11/2025)."])
        why = {"I.5": "do chờ ý kiến tham gia của các sở, ngành liên quan; đã hoàn thành trong tháng 12/2025",
               "III.4": "do vi phạm thời gian làm việc; đơn vị đã kiểm điểm, chấn chỉnh",
               "IV.4": "do chậm tổng hợp số liệu báo cáo"}.get(k.code, "đã khắc phục")
        return f"Có {int(a):02d} {what}, {why}."
    if k.code == "I.1.a" or wanted:
        if "(%)" in k.text and k.code == "I.1.a":
            if a >= 100:
                return (f"Hoàn thành 100% chỉ tiêu, nhiệm vụ UBND tỉnh giao trong năm 2025 (Báo cáo số "
                        f"{fmt['n']}/BC ngày {fmt['d']:02d}/11/2025).")
            return (f"Hoàn thành {_vn(a)}% chỉ tiêu, nhiệm vụ được giao; {fmt['k']:02d} nhiệm vụ đang triển khai, "
                    "chuyển tiếp sang năm 2026 do vướng mắc về thủ tục, nguồn vốn.")
        if k.code == "I.1.b":
            return f"Hoàn thành {int(a)}/{int(k.target)} nhiệm vụ trọng tâm đã đăng ký thi đua đầu năm."
        if k.code == "I.3":
            return (f"Tỷ lệ hồ sơ thủ tục hành chính giải quyết đúng hạn và trước hạn đạt {_vn(a)}% "
                    "(số liệu Hệ thống thông tin giải quyết thủ tục hành chính tỉnh).")
        if k.code == "II.3.a":
            return f"Tỷ lệ văn bản đi được ký số, gửi nhận trên môi trường điện tử đạt {_vn(a)}%."
    return None


# --- inbox ---------------------------------------------------------------------------------------

@dataclass
class Return:
    name: str            # file name in inbox/
    unit: Unit
    fill: Fill
    received: dt.datetime  # becomes the file's modification time


NAME_PATTERNS = [
    "{code}_Tu cham diem 2025.xlsx",
    "Bang tu cham - {ascii}.xlsx",
    "{code} tự chấm.xlsx",
    "{short} - Bảng tự chấm điểm thi đua 2025.xlsx",
    "Tu cham diem thi dua 2025 - {code}.xlsx",
    "{code}-tuchamdiem.xlsx",
    "{ascii}_tu cham 2025.xlsx",
    "Biểu tự chấm điểm năm 2025 ({short}).xlsx",
]


def _received(rng: random.Random) -> dt.datetime:
    return dt.datetime(2025, 12, rng.randint(1, 9), rng.randint(7, 16), rng.randint(0, 59))


def plan(campaign: Campaign) -> list[Return]:
    """Every return the sample inbox holds, in campaign order (DN03 sends nothing)."""
    rng = random.Random(SEED)
    out = []
    for unit in campaign.units:
        p = C.PROFILES[unit.code]
        scores, actuals = draw_scores(campaign, unit, p)
        explanations = draw_explanations(rng, campaign, unit, scores, actuals)
        fill = Fill(scores=scores, actuals=actuals, explanations=explanations, items=dict(ITEMS.get(unit.code, {})))
        name = _nfc(rng.choice(NAME_PATTERNS).format(code=unit.code, short=unit.short_name,
                                                      ascii=_ascii(unit.short_name)))
        received = _received(rng)
        if unit.code == "DN03":
            continue
        if unit.code == "KT04":
            s = scores["I.1.c"]
            s = s - 0.5 if float(s).is_integer() else s
            fill.scores["I.1.c"] = _vn(s, 2)
        elif unit.code == "VX07":
            fill.scores["I.2.a"] = 6.5
        elif unit.code == "NC05":
            fill.explanations.pop("I.2.c", None)
        elif unit.code == "KT06":
            fill.meta = {"template_version": "2024.1", "criteria_digest": "0000000000000000"}
        elif unit.code == "KT07":
            received = dt.datetime(2025, 12, 12, 10, 0)
        elif unit.code == "VX09":
            first = Fill(scores=dict(scores), actuals=dict(actuals), explanations=dict(explanations),
                         items=dict(fill.items))
            s = scores["I.1.c"]
            first.scores["I.1.c"] = s + 1 if s + 1 <= 12 else s - 1
            out.append(Return(VX09_FIRST, unit, first, dt.datetime(2025, 12, 5, 9, 0)))
            name, received = VX09_SECOND, dt.datetime(2025, 12, 8, 15, 30)
        out.append(Return(name, unit, fill, received))
    names = [r.name for r in out] + [NOT_A_RETURN]
    assert len(set(names)) == len(names), "inbox file names must be unique"
    return out


def write_attendees(path: Path) -> None:
    """Not a return: a list of conference delegates that somebody dropped into the same mailbox."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": "Danh sách đại biểu dự hội nghị", "created": GENERATED_AT})
    bold = wb.add_format({"bold": True, "font_name": "Times New Roman"})
    plain = wb.add_format({"font_name": "Times New Roman"})
    ws = wb.add_worksheet("Sheet1")
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 44)
    ws.write_string(0, 0, _nfc("DANH SÁCH ĐẠI BIỂU DỰ HỘI NGHỊ TỔNG KẾT KHỐI THI ĐUA NĂM 2025"), bold)
    ws.write_row(2, 0, ["STT", "Họ và tên", "Chức vụ, đơn vị"], bold)
    people = [
        ("Nguyễn Văn Hùng", "Phó Giám đốc Sở Tài chính"),
        ("Trần Thị Thu Hà", "Chánh Văn phòng Sở Công Thương"),
        ("Lê Quang Minh", "Trưởng phòng Tổ chức cán bộ, Sở Xây dựng"),
        ("Hoàng Thị Lan", "Chuyên viên Văn phòng Sở Nông nghiệp và Môi trường"),
        ("Phan Đức Thịnh", "Phó Trưởng ban Ban Quản lý Khu kinh tế tỉnh"),
        ("Võ Thị Mỹ Linh", "Chuyên viên Ban Thi đua - Khen thưởng, Sở Nội vụ"),
    ]
    for n, (who, role) in enumerate(people, start=1):
        ws.write_number(2 + n, 0, n, plain)
        ws.write_string(2 + n, 1, _nfc(who), plain)
        ws.write_string(2 + n, 2, _nfc(role), plain)
    wb.close()


def _stamp(path: Path, when: dt.datetime) -> None:
    t = when.replace(tzinfo=dt.timezone.utc).timestamp()
    os.utime(path, (t, t))


# Bloc VX registered with the start-of-year form (`thidua templates --registration`); the officer saved the
# returned forms under inbox/dang-ky/. Every other unit's registration is typed on campaign.xlsx's `Đăng ký`.
FORM_BLOC = "VX"
FORMS = "dang-ky"
KEY_TASKS = [
    ("Hoàn thành 100% chỉ tiêu, nhiệm vụ UBND tỉnh giao năm 2025", "100% chỉ tiêu"),
    ("Tham mưu sắp xếp tổ chức bộ máy theo mô hình chính quyền địa phương hai cấp", "Đúng tiến độ của tỉnh"),
    ("Giải quyết thủ tục hành chính đúng hạn trên Hệ thống thông tin giải quyết TTHC tỉnh", "Trên 98% đúng hạn"),
    ("Triển khai Đề án 06, chuyển đổi số trong hoạt động của cơ quan", "100% văn bản ký số"),
    ("Thực hành tiết kiệm, chống lãng phí; phòng, chống tham nhũng, tiêu cực", "Không để xảy ra vi phạm"),
]


def registration_forms(campaign: Campaign) -> list[tuple[str, Unit, dict, dt.datetime]]:
    """(file under inbox/, unit, fill, received) of the registration forms bloc VX sent in January 2025.
    VX05 typed "có" instead of x: read as registered, with a warning."""
    forms = []
    for n, unit in enumerate(campaign.members(FORM_BLOC)):
        marks = {a: ("có" if unit.code == "VX05" else "x") for a in C.REGISTRATIONS.get(unit.code, [])}
        fill = {"awards": marks, "tasks": KEY_TASKS[: 3 + n % 3]}
        forms.append((f"{FORMS}/Dang ky thi dua 2025 - {unit.code}.xlsx", unit, fill,
                      dt.datetime(2025, 1, 6 + n % 5, 8 + n % 7, 15)))
    return forms


def write_inbox(root: Path, campaign: Campaign) -> list[Path]:
    inbox = Path(root) / "inbox"
    (inbox / FORMS).mkdir(parents=True, exist_ok=True)
    returns = plan(campaign)
    forms = registration_forms(campaign)
    # the builder owns inbox/*.xlsx and inbox/dang-ky/*.xlsx; other files dropped there (.eml, .ods...) stay
    for old in [*inbox.glob("*.xlsx"), *(inbox / FORMS).glob("*.xlsx")]:
        old.unlink()
    paths = []
    for r in returns:
        path = write_template(inbox / r.name, campaign, r.unit, GENERATED_AT, fill=r.fill)
        _stamp(path, r.received)
        paths.append(path)
    for name, unit, fill, received in forms:
        path = write_registration(inbox / name, campaign, unit, dt.datetime(2025, 1, 2, 8, 0), fill)
        _stamp(path, received)
        paths.append(path)
    path = inbox / NOT_A_RETURN
    write_attendees(path)
    _stamp(path, dt.datetime(2025, 12, 3, 14, 12))
    paths.append(path)
    # git does not keep modification times: the register keeps the received times on a fresh clone.
    with open(inbox / "received.csv", "w", newline="", encoding="utf-8") as f:
        f.write("file,received\n")
        for r in sorted(returns, key=lambda r: r.name):
            f.write(f"{r.name},{r.received.isoformat()}\n")
        f.write(f"{NOT_A_RETURN},2025-12-03T14:12:00\n")
        for name, _, _, received in forms:
            f.write(f"{name},{received.isoformat()}\n")
    return paths


# --- campaign ------------------------------------------------------------------------------------

def campaign_content() -> dict[str, list[dict]]:
    flags = ("discipline", "investigation", "inspection", "complaint")
    rules = [{k: v for k, v in r.items()} for r in C.AWARD_RULES]
    return {
        "Thiết lập": [{"key": k, "value": v} for k, _, v in C.SETTINGS],
        "Khối": [dict(zip(("code", "name", "head", "deputy"), b)) for b in C.BLOCS],
        "Đơn vị": [dict(zip(("code", "name", "short_name", "bloc", "email") + flags, u)) for u in C.UNITS],
        "Tiêu chí": [dict(zip(("code", "group", "text", "kind", "max", "step", "target", "applies_to", "explanation"), c))
                     for c in C.CRITERIA],
        "Thưởng - Trừ": [dict(zip(("code", "kind", "text", "points", "cap"), i)) for i in C.BONUS_DEDUCTIONS],
        "Khen thưởng": rules,
        "Lịch sử": [dict(zip(("unit", "year", "kind", "value", "revoked"), h)) for h in C.HISTORY],
        "Đăng ký": [{"unit": u, "award": a} for u, awards in C.REGISTRATIONS.items() for a in awards
                    if u not in {x[0] for x in C.UNITS if x[3] == FORM_BLOC}],
    }


# --- completed reviews ---------------------------------------------------------------------------

def write_reviews(root: Path) -> list[Path]:
    """The bloc heads' completed reviews, made as an officer makes them: `thidua review` run on a copy of the
    campaign (the real pipeline, so the self scores shown are the ones `rank` computes), then each
    out/review/<bloc>.xlsx edited as the bloc head does in Excel (REVIEWS, BALLOTS) and saved to ROOT/review/."""
    root = Path(root)
    folder = root / "review"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.xlsx"):  # the builder owns review/*.xlsx
        old.unlink()
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / root.name
        work.mkdir()
        shutil.copy2(root / "campaign.xlsx", work / "campaign.xlsx")
        shutil.copytree(root / "inbox", work / "inbox")
        run_collect(work)
        made, _ = run_review(work, REVIEW_MADE)
        for path in made:
            bloc = path.stem
            wb = openpyxl.load_workbook(path)
            _review_scores(wb, REVIEWS.get(bloc, []))
            _review_claims(wb, CLAIMS.get(bloc, []))
            ballot = BALLOTS.get(bloc)
            if ballot:
                _review_ballot(wb, ballot)
            wb.properties.lastModifiedBy = _nfc(REVIEWERS[bloc][0])
            paths.append(_save_fixed(wb, folder / path.name, REVIEW_MADE, REVIEWERS[bloc][1]))
    return paths


def _header(ws, *names: str) -> tuple[int, dict[str, int]]:
    """(row, {header text: column}) of the first row holding every one of `names`."""
    for row in ws.iter_rows():
        found = {_nfc(str(c.value)).strip(): c.column for c in row if isinstance(c.value, str)}
        if all(n in found for n in names):
            return row[0].row, found
    raise LookupError(f"{ws.title}: no header row with {names}")


def _review_claims(wb, edits: list[tuple[str, str, float, str]]) -> None:
    """Set the reviewed points of a unit's bonus or deduction row (issue 10: claims reviewed like scores)."""
    ws = wb[V.REVIEW_SHEET]
    head, col = _header(ws, V.UNIT, V.CODE, V.SELF, V.REVIEWED, V.NOTE)
    rows = {(ws.cell(r, col[V.UNIT]).value, ws.cell(r, col[V.CODE]).value): r for r in range(head + 1, ws.max_row + 1)}
    for unit, code, points, note in edits:
        r = rows[(unit, code)]
        ws.cell(r, col[V.REVIEWED]).value = points
        ws.cell(r, col[V.NOTE]).value = _nfc(note)


def _review_scores(wb, edits: list[tuple[str, str, float, str]]) -> None:
    """Lower the reviewed score of (unit, criterion) by the given points, with the bloc head's note."""
    ws = wb[V.REVIEW_SHEET]
    head, col = _header(ws, V.UNIT, V.CODE, V.SELF, V.REVIEWED, V.NOTE)
    rows = {(ws.cell(r, col[V.UNIT]).value, ws.cell(r, col[V.CODE]).value): r for r in range(head + 1, ws.max_row + 1)}
    for unit, code, lower, note in edits:
        r = rows[(unit, code)]
        self_score = float(ws.cell(r, col[V.SELF]).value)
        reviewed = round(self_score - lower, 4)
        assert 0 <= reviewed < self_score, (unit, code, self_score, lower)
        ws.cell(r, col[V.REVIEWED]).value = reviewed
        if note:
            ws.cell(r, col[V.NOTE]).value = _nfc(note)


def _review_ballot(wb, ballot: dict) -> None:
    """The secretary's tally: leader votes for every member (0 where none), head and deputy votes where the
    conference elected them (else left blank: rotation), and units present, ballots issued and valid."""
    ws = wb[V.VOTES_SHEET]
    head, col = _header(ws, V.UNIT, V.LEADER, V.HEAD, V.DEPUTY)
    r = head + 1
    while ws.cell(r, col[V.UNIT]).value:
        unit = ws.cell(r, col[V.UNIT]).value
        ws.cell(r, col[V.LEADER]).value = ballot["leader"].get(unit, 0)
        for kind, h in (("head", V.HEAD), ("deputy", V.DEPUTY)):
            if ballot.get(kind):
                ws.cell(r, col[h]).value = ballot[kind].get(unit, 0)
        r += 1
    kv, kcol = _header(ws, V.KEY, V.VALUE)
    for rr in range(kv + 1, kv + 1 + len(V.COUNT_KEYS)):
        key = {label: k for k, label in V.COUNT_KEYS.items()}[ws.cell(rr, kcol[V.KEY]).value]
        ws.cell(rr, kcol[V.VALUE]).value = ballot[key]


def _save_fixed(wb, path: Path, created: dt.datetime, modified: dt.datetime) -> Path:
    """Save with openpyxl, byte-identical on every run: fixed document times (openpyxl's save_workbook would
    stamp the current time) and fixed zip entry times."""
    wb.properties.created, wb.properties.modified = created, modified
    buf = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    stamp = modified.timetuple()[:6]
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0o600 << 16
            out.writestr(entry, src.read(info.filename))
    return path


def main(root: Path = CAMPAIGN) -> list[Path]:
    root = Path(root)
    # out/ was made from the previous inbox: collect keeps every file it ever received, so the old returns
    # (other names, other received times) would count beside the new ones. It is rebuildable: start afresh.
    shutil.rmtree(root / "out", ignore_errors=True)
    write_campaign(root / "campaign.xlsx", campaign_content())
    print(f"wrote {root / 'campaign.xlsx'}")
    campaign = load_checked(root / "campaign.xlsx")
    paths = write_inbox(root, campaign)
    print(f"wrote {len(paths)} files in {root / 'inbox'}")
    reviews = write_reviews(root)
    print(f"wrote {len(reviews)} completed reviews in {root / 'review'}")
    return [root / "campaign.xlsx", *paths, *reviews]


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CAMPAIGN)
