"""Issues: every problem found in the data, with its position and a message in Vietnamese and English."""
from __future__ import annotations

from dataclasses import dataclass, field


ERROR, WARNING = "error", "warning"
SEVERITY_VI = {ERROR: "Lỗi", WARNING: "Cảnh báo"}


class ThiduaError(Exception):
    """What stops a run (unreadable campaign, missing folder); the CLI prints one line and exits 1."""


# code -> (Vietnamese, English); the same {placeholders} in both.
MESSAGES: dict[str, tuple[str, str]] = {
    # campaign.xlsx
    "sheet_missing": ("Thiếu trang tính “{sheet}”", "Sheet “{sheet}” is missing"),
    "header_missing": ("Không tìm thấy dòng tiêu đề có các cột: {headers}", "No header row with the columns: {headers}"),
    "value_invalid": ("Giá trị “{value}” không hợp lệ ở cột “{column}”: {rule}", "Value “{value}” is not valid in column “{column}”: {rule}"),
    "value_required": ("Cột “{column}” không được để trống", "Column “{column}” must not be blank"),
    "duplicate": ("“{value}” bị trùng ở cột “{column}”", "“{value}” is duplicated in column “{column}”"),
    "not_a_number": ("“{value}” không phải là số", "“{value}” is not a number"),
    "setting_missing": ("Thiếu thiết lập “{key}” ({label})", "Setting “{key}” ({label}) is missing"),
    "setting_invalid": ("Thiết lập “{key}” = “{value}” không hợp lệ: {rule}", "Setting “{key}” = “{value}” is not valid: {rule}"),
    "unknown_bloc": ("Mã khối “{bloc}” không có trong trang Khối", "Bloc code “{bloc}” is not on the Khối sheet"),
    "head_not_member": ("{role} “{unit}” không phải thành viên của khối {bloc}", "{role} “{unit}” is not a member of bloc {bloc}"),
    "head_is_deputy": ("Trưởng khối và Phó khối của khối {bloc} trùng nhau", "Head and deputy of bloc {bloc} are the same unit"),
    "empty_bloc": ("Khối {bloc} không có đơn vị nào", "Bloc {bloc} has no units"),
    "criterion_orphan": ("Tiêu chí {code} không có tiêu chí cha {parent}", "Criterion {code} has no parent {parent}"),
    "criterion_group": ("Cột Nhóm của tiêu chí {code} phải là {expected}", "The group of criterion {code} must be {expected}"),
    "criterion_kind": ("Tiêu chí lá {code} phải có Loại; tiêu chí có mục con thì để trống", "Leaf criterion {code} needs a kind; a criterion with children leaves it blank"),
    "sum_mismatch": ("Tổng điểm tối đa các mục con của {code} là {total}, khác {expected}", "The maxima under {code} add up to {total}, not {expected}"),
    "scale_mismatch": ("Tổng điểm tối đa các nhóm là {total}, khác thang điểm {scale}", "The groups add up to {total}, not the scale {scale}"),
    "step_divides": ("Bước điểm {step} không chia hết điểm tối đa {max}", "Step {step} does not divide the maximum {max}"),
    "step_missing": ("Tiêu chí {code} loại “{kind}” cần Bước điểm", "Criterion {code} of kind “{kind}” needs a step"),
    "target_missing": ("Tiêu chí chỉ tiêu {code} chưa có giá trị Chỉ tiêu", "Target criterion {code} has no target value"),
    "applies_unknown": ("“{value}” trong Áp dụng cho không phải mã khối hay mã đơn vị", "“{value}” in applies-to is neither a bloc nor a unit code"),
    "item_cap": ("Điểm tối đa {cap} nhỏ hơn điểm mỗi lần {points}", "The cap {cap} is below the points per occurrence {points}"),
    "award_unknown": ("Mã khen thưởng “{award}” không có trong trang Khen thưởng; dùng {known}", "Award code “{award}” is not on the Khen thưởng sheet; use {known}"),
    "issuer_abolished": ("Cấp khen “{issuer}” của {award} là cấp huyện, không còn từ {reform}, mà danh sách ký ngày {signed}: ghi cấp khen sau cải cách (cấp huyện để ở cột Cấp khen trước cải cách)", "Issuer “{issuer}” of {award} is a district, abolished from {reform}, but the proposal is signed on {signed}: give the issuer after the reform (the district one goes in the before-reform column)"),
    "level_abolished": ("Cấp tổ chức “huyện” không còn từ {reform}, mà danh sách ký ngày {signed}", "The district level is abolished from {reform}, but the proposal is signed on {signed}"),
    "legal_basis_date": ("Căn cứ pháp lý trích {cited}, không có hiệu lực vào ngày ký {signed}; ngày đó là: {expected}", "The legal basis cites {cited}, not in force on the signing date {signed}; in force then: {expected}"),
    "doc_code_derived": ("Chưa ghi ký hiệu văn bản (doc_code): dòng “Kèm theo Tờ trình số …/TTr-{code}” của danh sách đề nghị lấy chữ đầu của “{body}”; ghi ký hiệu thật của cơ quan trình, ví dụ SNV hoặc HĐTĐKT", "No document code (doc_code): the proposal lists' line “Kèm theo Tờ trình số …/TTr-{code}” uses the initials of “{body}”; give the submitting body's real code, e.g. SNV or HĐTĐKT"),
    "history_award_unknown": ("“{value}” không phải mã hay tên hình thức khen thưởng nào ở trang Khen thưởng: điều kiện da_nhan không tính dòng này", "“{value}” is neither the code nor the title of an award on Khen thưởng: da_nhan conditions do not count this row"),
    "example_row": ("Dòng ví dụ của mẫu trắng còn trong bộ tiêu chí (“{value}”): sửa thành của đợt thi đua (bỏ chữ “(ví dụ)”, đổi mã VD…) hoặc xóa dòng", "An example row of the blank master is still in the covenant (“{value}”): make it the campaign's own (drop “(ví dụ)”, change the VD… code) or delete the row"),
    "review_missing": ("Khối {bloc} chưa có bảng thẩm định đã hoàn thành trong thư mục review/: dùng điểm tự chấm", "Bloc {bloc} has no completed review in review/: the self scores are used"),
    "ballot_missing": ("Khối {bloc} chưa có kết quả bỏ phiếu (trang Bỏ phiếu của bảng thẩm định): các quy tắc cần tỷ lệ phiếu không đề nghị được", "Bloc {bloc} has no recorded vote (the review's Bỏ phiếu sheet): rules that need a vote share propose nobody"),
    "review_wrong_folder": ("Bảng thẩm định của khối {bloc} đã được điền trong {found}, không phải trong review/: chép tệp vào review/ rồi chạy lại", "The review of bloc {bloc} was filled in {found}, not in review/: copy it into review/ and run again"),
    "review_unit_missing": ("Bảng thẩm định {file} không có đơn vị {unit} (bản tự chấm đến sau khi lập bảng): điểm tự chấm được dùng, chưa thẩm định; chạy lại thidua review", "The review {file} has no rows for unit {unit} (its return came after the review was made): its self scores are used, unreviewed; run thidua review again"),
    "condition_invalid": ("Điều kiện “{condition}” không hợp lệ; dùng: {known}", "Condition “{condition}” is not valid; use: {known}"),
    "rank_range": ("Hạng từ {low} lớn hơn Hạng đến {high}", "Rank from {low} is after rank to {high}"),
    "quota_both": ("Chỉ ghi Số lượng hoặc Tỷ lệ số lượng, không ghi cả hai", "Give a quota or a quota share, not both"),
    "unknown_unit": ("Mã đơn vị “{unit}” không có trong trang Đơn vị", "Unit code “{unit}” is not on the Đơn vị sheet"),
    "email_missing": ("Đơn vị {unit} chưa có email: cần có trước khi gửi thư (thidua mail)", "Unit {unit} has no email address: needed before `thidua mail`"),
    "email_shared": ("Email {email} dùng chung cho {units}: không biết thư từ địa chỉ này là của đơn vị nào", "The address {email} is shared by {units}: mail from it cannot be told apart"),
    # returns
    "not_a_return": ("Tệp không phải bản tự chấm (không có trang _meta)", "The file is not a return (no _meta sheet)"),
    "wrong_campaign": ("Tệp thuộc đợt thi đua “{found}”, không phải “{expected}”", "The file belongs to campaign “{found}”, not “{expected}”"),
    "unreadable": ("Không đọc được tệp: {reason}", "The file cannot be read: {reason}"),
    "encrypted": ("Tệp có đặt mật khẩu; gửi lại bản không mật khẩu", "The file is password-protected; send it without a password"),
    "macro": ("Tệp có chứa macro; gửi lại dạng .xlsx", "The file carries macros; send it as .xlsx"),
    "oversized": ("Tệp quá lớn ({size}); tối đa {limit} MB", "The file is too large ({size}); at most {limit} MB"),
    "bloc_mismatch": ("Mẫu ghi khối “{found}” nhưng đơn vị thuộc khối “{expected}”", "The template says bloc “{found}” but the unit is in “{expected}”"),
    "outdated_template": ("Mẫu cũ (phiên bản {found}); dùng mẫu phiên bản {expected}", "Outdated template (version {found}); use version {expected}"),
    "criteria_changed": ("Bộ tiêu chí trong mẫu khác bộ tiêu chí hiện hành; dùng mẫu mới", "The template's criteria differ from the covenant; use the new template"),
    "criterion_missing": ("Thiếu tiêu chí {code}", "Criterion {code} is missing"),
    "criterion_duplicate": ("Tiêu chí {code} xuất hiện nhiều lần", "Criterion {code} appears more than once"),
    "criterion_unknown": ("Mã “{code}” không có trong bộ tiêu chí của đơn vị", "Code “{code}” is not among the unit's criteria"),
    "score_missing": ("Chưa chấm điểm tiêu chí {code}", "Criterion {code} has no score"),
    "actual_missing": ("Chưa nhập kết quả thực hiện của tiêu chí {code}", "Criterion {code} has no actual result"),
    "decimal_comma": ("“{value}” được đọc là {number}; nên nhập số, không nhập chữ", "“{value}” was read as {number}; type numbers, not text"),
    "thousands_dot": ("“{value}” được đọc là {number}", "“{value}” was read as {number}"),
    "number_as_text": ("“{value}” là chữ, được đọc là số {number}", "“{value}” is text, read as the number {number}"),
    "score_range": ("Điểm {value} ngoài khoảng 0 đến {max}", "Score {value} is outside 0 to {max}"),
    "score_step": ("Điểm {value} không theo bước {step}", "Score {value} is not on the step {step}"),
    "pass_fail": ("Tiêu chí đạt/không đạt chỉ nhận {max} hoặc 0, không nhận {value}", "A pass/fail criterion takes {max} or 0, not {value}"),
    "actual_negative": ("Kết quả thực hiện {value} không được âm", "The actual result {value} must not be negative"),
    "explanation_missing": ("Tiêu chí {code} cần giải trình", "Criterion {code} needs an explanation"),
    "item_over_cap": ("Điểm {value} vượt mức tối đa {cap} của khoản {code}; tính {counted}", "{value} points exceed the cap {cap} of item {code}; {counted} counted"),
    "claim_step": ("Điểm {value} của khoản {code} không theo bước {step}; tính {counted}", "{value} points of item {code} are not on its step {step}; {counted} counted"),
    "claim_negative": ("Điểm {value} của khoản {code} không được âm; tính {counted}", "{value} points of item {code} must not be negative; {counted} counted"),
    "claim_blank": ("Khoản {code} có giải trình nhưng chưa ghi điểm: không tính", "Item {code} has an explanation but no points: not counted"),
    "count_blank": ("Chưa nhập số lần của tiêu chí {code}: tính là 0 lần", "Criterion {code} has no count: taken as 0"),
    "formula_no_value": ("Ô có công thức chưa được tính (tệp do chương trình tạo, chưa mở bằng Excel): mở tệp bằng Excel và lưu lại", "The cell holds a formula that was never computed (a file written by a program, never opened in Excel): open the file in Excel and save it"),
    "formula_input": ("Ô nhập liệu chứa công thức; chỉ dùng giá trị Excel đã tính, nên nhập số", "An input cell holds a formula; only the value Excel computed is used: type the number"),
    "external_link": ("Tệp có {count} liên kết tới tệp Excel khác; thidua không mở các liên kết này, chỉ dùng giá trị đã lưu", "The file has {count} links to other workbooks; thidua never follows them and uses the saved values"),
    "wrong_extension": ("Tệp thực chất là tệp .{kind} nhưng mang đuôi {suffix}; đã đọc như tệp .{kind}", "The file is really a .{kind} file named {suffix}; it was read as .{kind}"),
    "too_large": ("Tệp giải nén quá lớn, không đọc (nghi tệp nén độc hại): {reason}", "The file inflates too far and was not read (a suspected zip bomb): {reason}"),
    "unsafe_xml": ("Tệp có khai báo DTD hoặc thực thể XML ({reason}): không đọc vì không an toàn; mở bằng Excel, lưu lại dạng .xlsx", "The file declares a DTD or XML entities ({reason}): not read, as unsafe; open it in Excel and save it as .xlsx"),
    "html_file": ("Tệp là trang web (HTML) đặt tên như tệp Excel; mở bằng Excel, lưu lại dạng .xlsx", "The file is a web page (HTML) named like a workbook; open it in Excel and save it as .xlsx"),
    "pdf_file": ("Tệp là PDF đặt tên như tệp Excel; gửi tệp Excel của mẫu tự chấm", "The file is a PDF named like a workbook; send the template's Excel file"),
    "not_a_workbook": ("Tệp không phải bảng tính Excel hay LibreOffice ({reason})", "The file is not an Excel or LibreOffice workbook ({reason})"),
    "too_many_rows": ("Trang tính có {rows} dòng; chỉ đọc {cap} dòng đầu", "The sheet has {rows} rows; only the first {cap} are read"),
    "text_too_long": ("Nội dung dài {length} ký tự, quá giới hạn {limit} của một ô Excel: đã cắt bớt", "The text is {length} characters long, past Excel's cell limit of {limit}: cut"),
    "legacy_encoding": ("Chữ có vẻ được gõ bằng bảng mã {encoding} (hiển thị sai dấu); có thể là: “{converted}”. Gõ lại bằng bảng mã Unicode", "The text looks typed in the legacy {encoding} encoding (garbled marks); it may read: “{converted}”. Retype it in Unicode"),
    "more_issues": ("… và {count} dòng khác cùng loại lỗi “{code}”", "… and {count} more of the kind “{code}”"),
    "bonus_over_cap": ("Tổng điểm thưởng {total} vượt mức tối đa {cap}; chỉ tính {cap}", "Total bonus {total} exceeds the cap {cap}; {cap} counted"),
    "no_return": ("Đơn vị chưa gửi bản tự chấm", "The unit has sent no return"),
    "sender_other_unit": ("Tệp mang mã đơn vị {unit} nhưng được gửi từ địa chỉ {sender} của đơn vị {owner}: không tính (bản hợp lệ trước đó, nếu có, vẫn được dùng)", "The file says unit {unit} but was mailed from {sender}, the address of unit {owner}: not counted (an earlier valid version, if any, stands)"),
    "sender_unknown": ("Tệp được gửi từ địa chỉ {sender}, không phải email của đơn vị nào trong danh sách", "The file was mailed from {sender}, which is no unit's address"),
    "late": ("Nhận lúc {received}, sau hạn {deadline}", "Received {received}, after the deadline {deadline}"),
    # reviews and votes (CAMPAIGN/review/)
    "review_not_a_review": ("Tệp không phải bảng thẩm định của khối (khối “{bloc}”)", "The file is not a bloc review workbook (bloc “{bloc}”)"),
    "review_unit": ("Đơn vị “{unit}” không thuộc khối {bloc}", "Unit “{unit}” is not a member of bloc {bloc}"),
    "review_not_scored": ("Tiêu chí {code} của đơn vị này không có trong điểm tự chấm hợp lệ; bỏ qua", "Criterion {code} is not among this unit's valid self scores; ignored"),
    "review_blank": ("Ô điểm thẩm định tiêu chí {code} để trống; giữ điểm tự chấm", "The reviewed score of {code} is blank; the self score stands"),
    "review_stale": ("Điểm tự chấm tiêu chí {code} trong bảng thẩm định ({shown}) khác điểm tự chấm hiện hành ({self}): đơn vị đã gửi bản mới", "The self score of {code} in the review ({shown}) differs from the current one ({self}): the unit sent a new version"),
    "review_note_missing": ("Điểm thẩm định tiêu chí {code} là {reviewed}, lệch điểm tự chấm {self} quá {tolerance} điểm mà không ghi lý do", "The reviewed score of {code} is {reviewed}, more than {tolerance} from the self score {self}, with no note"),
    "review_superseded": ("Khối {bloc} có nhiều bảng thẩm định; dùng tệp {file}", "Bloc {bloc} has several reviews; {file} is used"),
    "votes_not_count": ("Số phiếu “{value}” phải là số nguyên không âm", "The count “{value}” must be a whole number, not negative"),
    "votes_counts_missing": ("Chưa ghi: {missing}; kết quả bỏ phiếu chưa dùng được", "Not recorded: {missing}; the vote cannot be used"),
    "votes_present": ("Số đơn vị có mặt {present} nhiều hơn số đơn vị thành viên {members}", "{present} units present, more than the {members} members"),
    "votes_issued": ("Số phiếu phát ra {issued} nhiều hơn số đơn vị có mặt {present}", "{issued} ballots issued, more than the {present} units present"),
    "votes_valid": ("Số phiếu hợp lệ {valid} nhiều hơn số phiếu phát ra {issued}", "{valid} valid ballots, more than the {issued} issued"),
    "votes_over": ("Đơn vị được {votes} phiếu, nhiều hơn số phiếu hợp lệ {valid}", "The unit has {votes} votes, more than the {valid} valid ballots"),
    "votes_total": ("Cột “{column}” cộng được {total} phiếu, nhiều hơn số phiếu hợp lệ {valid}", "Column “{column}” adds up to {total} votes, more than the {valid} valid ballots"),
    "quorum_missed": ("Chỉ có {present}/{members} đơn vị có mặt, chưa đủ {quorum}: kết quả bỏ phiếu không hợp lệ", "Only {present} of {members} units present, below {quorum}: the vote is not valid"),
    "leader_vote_missed": ("Đơn vị đứng đầu khối {bloc} chỉ được {share} phiếu suy tôn, không quá {needed}%: Hội nghị khối xem xét", "The top scorer of bloc {bloc} has {share} of the votes, not above {needed}%: for the conference"),
    "outvoted": ("Đơn vị {other} được nhiều phiếu suy tôn ({other_votes}) hơn đơn vị đứng đầu khối {bloc} ({votes}): Hội nghị khối xem xét", "Unit {other} has more votes ({other_votes}) than the top scorer of bloc {bloc} ({votes}): for the conference"),
    "vote_tie": ("Bầu {role} khối {bloc}: {units} bằng phiếu ({votes}); áp dụng luân phiên, Hội nghị khối xem xét", "Election of the {role} of bloc {bloc}: {units} tie on {votes} votes; rotation applied, for the conference"),
    # registration forms (đăng ký thi đua)
    "registration_mark": ("“{value}” ở cột Đăng ký được hiểu là có đăng ký {award}; chỉ đánh x hoặc để trống", "“{value}” in column Đăng ký is read as registering for {award}; mark x or leave blank"),
    "registration_mark_no": ("“{value}” ở cột Đăng ký được hiểu là không đăng ký {award}; chỉ đánh x hoặc để trống", "“{value}” in column Đăng ký is read as not registering for {award}; mark x or leave blank"),
    "registration_superseded": ("Có {count} bản đăng ký thi đua; dùng bản nhận lúc {received} ({file})", "{count} registration forms received; the one of {received} is used ({file})"),
    "superseded": ("Có {count} bản gửi; dùng bản nhận lúc {received} ({file})", "{count} versions received; the one of {received} is used ({file})"),
}


@dataclass(frozen=True)
class Issue:
    code: str
    severity: str = ERROR
    unit: str = ""
    file: str = ""
    sheet: str = ""
    cell: str = ""
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def message(self, lang: str = "vi") -> str:
        vi, en = MESSAGES[self.code]
        return (vi if lang == "vi" else en).format(**self.params)

    def where(self) -> str:
        return " ".join(p for p in (self.file, f"[{self.sheet}]" if self.sheet else "", self.cell) if p)


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity == ERROR for i in issues)


ISSUE_COLUMNS = {
    "unit": "Mã đơn vị", "file": "Tệp", "sheet": "Trang tính", "cell": "Ô",
    "code": "Mã lỗi", "severity": "Mức độ", "message": "Nội dung", "message_en": "Message (English)",
}


def to_frame(issues: list[Issue]) -> "pd.DataFrame":
    """Issues as a table with the stable Vietnamese headers of the `Lỗi` sheet."""
    import pandas as pd  # here, not at the top: `thidua --help` need not load pandas
    rows = [
        {"unit": i.unit, "file": i.file, "sheet": i.sheet, "cell": i.cell, "code": i.code,
         "severity": SEVERITY_VI[i.severity], "message": i.message("vi"), "message_en": i.message("en")}
        for i in issues
    ]
    return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS)).rename(columns=ISSUE_COLUMNS)
