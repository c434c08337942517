"""Covenant stage: campaign.xlsx -> Campaign (frozen dataclasses) and the list of its problems."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cached_property
from fractions import Fraction
from typing import TYPE_CHECKING

from schemas import campaign as S

from .issues import Issue
from .workbook import Table, number, text

if TYPE_CHECKING:
    import pandas as pd

# Award codes the master suggests (Law on Emulation and Commendation 2022). They are suggestions only: a campaign
# defines its own codes on `Khen thưởng` (two kinds of Giấy khen, a ministry's flag ...), and registrations and
# history refer to the campaign's codes.
AWARDS = {
    "CO_CP": "Cờ thi đua của Chính phủ",
    "CO_TINH": "Cờ thi đua của UBND tỉnh",
    "CO_BO": "Cờ thi đua của Bộ, ngành",
    "BK_TTG": "Bằng khen của Thủ tướng Chính phủ",
    "BK_TINH": "Bằng khen của Chủ tịch UBND tỉnh",
    "BK_BO": "Bằng khen của Bộ trưởng, Thủ trưởng ngành",
    "GIAY_KHEN": "Giấy khen",
}
# Conditions over the award history a rule may ask for: name -> what its value is.
CONDITIONS = {
    "lien_tuc_xuat_sac": "N: graded Xuất sắc this year and the N-1 years before",
    "da_nhan": "CODE: received award CODE in the previous year",
}
# The blank master's example rows carry this in their texts, and their units and blocs VD codes: `check`
# reports any that remain, so an example can never reach a real campaign.
EXAMPLE_MARK = "(ví dụ)"
EXAMPLE_CODE = re.compile(r"^VD\d*$")
BLOCKERS = {
    "discipline": "đang xem xét kỷ luật",
    "investigation": "đang bị điều tra",
    "inspection": "đang thanh tra",
    "complaint": "có khiếu nại chưa giải quyết",
}


@dataclass(frozen=True)
class Settings:
    campaign_id: str
    year: int
    level: str
    parent_body: str
    issuing_body: str
    place: str
    deadline: dt.date
    reply_to: str
    scale: float
    bonus_cap: float
    deduction_cap: float | None
    allow_over_scale: bool
    rounding: int
    grades: tuple[tuple[str, float], ...]  # best first
    quorum: Fraction
    leader_vote_share: float
    tie_break: tuple[str, ...]
    na_policy: str  # quy_doi: rescale the total; du_diem: count as full marks
    review_tolerance: float
    reform_date: dt.date
    head_rotation: str
    max_file_mb: float
    vote_base: str  # thanh_vien: shares of the member units; phieu_hop_le: of the valid ballots
    proposal_date: dt.date | None  # signing date of the proposal; None prints "ngày ... tháng ... năm"
    signer_title: str
    signer_name: str
    recipients: tuple[str, ...]
    mail_from: str = ""  # the officer's address the templates are sent from
    mail_from_name: str = ""
    smtp_host: str = ""
    smtp_port: int | None = None  # None: by smtp_security (587, 465, 25)
    smtp_security: str = "starttls"
    smtp_user: str = ""  # the password is never in the covenant: THIDUA_SMTP_PASSWORD or a prompt
    mail_trusted: tuple[str, ...] = ()  # addresses that may send a return for any unit (officer, bloc heads)
    legal_basis: str = ""  # quoted in the reasons; blank: the law and decree in force on the signing date
    claim_policy: str = "cat"  # a bonus/deduction claim over its cap or off its step: cat (capped), bo (not counted), loi (error)
    doc_code: str = ""  # the issuing body's document code (TTr-<doc_code>); blank: its initials, with a warning
    matrix_blocs: int = 30  # the results workbook has a `Ma trận <bloc>` sheet per bloc up to this many blocs

    @property
    def document_code(self) -> str:
        """The code in "Tờ trình số …/TTr-<code>": `doc_code`, else the issuing body's initials."""
        return self.doc_code or initials(self.issuing_body or "")

    @property
    def signing_date(self) -> dt.date:
        """When the proposal is signed: proposal_date, else the last day of the year. The issuers and the law
        follow this date."""
        return self.proposal_date or dt.date(self.year, 12, 31)

    @property
    def after_reform(self) -> bool:
        return self.signing_date >= self.reform_date


@dataclass(frozen=True)
class Bloc:
    code: str
    name: str
    head: str
    deputy: str


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short_name: str
    bloc: str
    email: str
    blockers: tuple[str, ...] = ()  # keys of BLOCKERS that hold


@dataclass(frozen=True)
class Criterion:
    code: str
    group: str
    text: str
    kind: str  # "" for a node with children
    max: float
    step: float | None = None
    target: float | None = None
    applies_to: tuple[str, ...] = ()  # bloc or unit codes; empty: everyone
    explanation: str = ""

    @property
    def parent(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    @property
    def depth(self) -> int:
        return self.code.count(".")


@dataclass(frozen=True)
class Item:
    code: str
    kind: str  # thưởng | trừ
    text: str
    points: float
    cap: float


@dataclass(frozen=True)
class AwardRule:
    code: str
    award: str
    issuer: str
    issuer_before_reform: str
    priority: int
    rank_from: int | None = None
    rank_to: int | None = None
    top_share: float | None = None
    min_grade: str = ""
    min_score: float | None = None
    min_vote_share: float | None = None
    must_register: bool = False
    quota: int | None = None
    quota_share: float | None = None
    quota_rounding: str = ""
    conditions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HistoryRow:
    unit: str
    year: int
    kind: str
    value: str
    revoked: bool = False


@dataclass(frozen=True)
class Campaign:
    settings: Settings
    blocs: tuple[Bloc, ...]
    units: tuple[Unit, ...]
    criteria: tuple[Criterion, ...]
    items: tuple[Item, ...] = ()
    award_rules: tuple[AwardRule, ...] = ()
    history: tuple[HistoryRow, ...] = ()
    registrations: tuple[tuple[str, str], ...] = ()  # (unit, award code)

    # Cached: every stage looks units up by code, once per return or per unit.
    @cached_property
    def _units(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @cached_property
    def _members(self) -> dict[str, tuple[Unit, ...]]:
        members: dict[str, list[Unit]] = {b.code: [] for b in self.blocs}
        for u in self.units:  # one pass: a filter of every unit per bloc grows with the square of the campaign
            if u.bloc in members:
                members[u.bloc].append(u)
        return {code: tuple(units) for code, units in members.items()}

    @cached_property
    def _blocs(self) -> dict[str, Bloc]:
        return {b.code: b for b in self.blocs}

    def unit(self, code: str) -> Unit | None:
        return self._units.get(code)

    def bloc(self, code: str) -> Bloc | None:
        return self._blocs.get(code)

    def members(self, bloc: str) -> tuple[Unit, ...]:
        return self._members.get(bloc, ())

    def rotation(self, bloc: Bloc) -> tuple[str, str]:
        """Next year's head and deputy where the conference elects none: `pho_len_truong`, this year's deputy
        becomes head and the next member after it in the list deputy; `giu_nguyen`, both stay."""
        if self.settings.head_rotation == "giu_nguyen" or not bloc.deputy:
            return bloc.head, bloc.deputy
        return bloc.deputy, self.next_member(bloc, bloc.deputy, {bloc.deputy, bloc.head})

    def next_member(self, bloc: Bloc, after: str, skip: set) -> str:
        """The first member after `after` in the bloc's list, going round, that is not in `skip`."""
        codes = [u.code for u in self.members(bloc.code)]
        if after not in codes:
            return next((u for u in codes if u not in skip), "")
        i = codes.index(after)
        ring = codes[i + 1:] + codes[:i]
        return next((u for u in ring if u not in skip), next((u for u in ring if u != after), ""))

    @cached_property
    def awards(self) -> dict[str, str]:
        """code -> title of every award the campaign's rules give, highest first (the codes a registration or a
        history row may name)."""
        titles: dict[str, str] = {}
        for rule in sorted(self.award_rules, key=lambda r: r.priority):
            titles.setdefault(rule.code, rule.award or AWARDS.get(rule.code, rule.code))
        return titles

    def award_priority(self, code: str) -> int | None:
        """The highest priority (smallest number) of the campaign's rules with this award code."""
        return min((r.priority for r in self.award_rules if r.code == code), default=None)

    @cached_property
    def leaves(self) -> tuple[Criterion, ...]:
        parents = {c.parent for c in self.criteria}
        return tuple(c for c in self.criteria if c.code not in parents)

    def applies(self, criterion: Criterion, unit: Unit) -> bool:
        return not criterion.applies_to or unit.code in criterion.applies_to or unit.bloc in criterion.applies_to

    @cached_property
    def _trees(self) -> dict[tuple[str, ...], tuple[Criterion, ...]]:
        return {}  # criteria_for by the targeted leaves that apply: most units of a campaign share one tree

    def criteria_for(self, unit: Unit) -> tuple[Criterion, ...]:
        """The whole tree as the unit sees it: its applicable leaves and the nodes above them."""
        targeted = tuple(c.code for c in self.leaves if c.applies_to and self.applies(c, unit))
        if targeted not in self._trees:
            self._trees[targeted] = self._tree(unit)
        return self._trees[targeted]

    def _tree(self, unit: Unit) -> tuple[Criterion, ...]:
        leaves = [c for c in self.leaves if self.applies(c, unit)]
        keep = {c.code for c in leaves}
        for c in leaves:
            code = c.code
            while "." in code:
                code = code.rsplit(".", 1)[0]
                keep.add(code)
        return tuple(c for c in self.criteria if c.code in keep)

    @cached_property
    def digest(self) -> str:
        """A hash of the criteria a template is made from: a changed covenant makes old templates stale."""
        rows = [[c.code, c.text, c.kind, c.max, c.step, c.target, list(c.applies_to), c.explanation]
                for c in self.criteria]
        rows += [[i.code, i.kind, i.text, i.points, i.cap] for i in self.items]
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()[:16]


# --- settings -------------------------------------------------------------------------------

def _date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = text(v)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise ValueError("ngày dạng 2025-12-10 hoặc 10/12/2025")


def _num(v) -> float:
    value, guess = number(v)
    if value is None:
        raise ValueError("phải là số")
    return value


def _share(v) -> Fraction:
    """'2/3', 66.67 (%) or 0.6667 -> a fraction of members."""
    s = text(v)
    if re.fullmatch(r"\d+/\d+", s):
        return Fraction(s)
    x = _num(v)
    return Fraction(x / 100 if x > 1 else x).limit_denominator(1000)


# --- enumerated values: one way of matching on every sheet ----------------------------------------

def word_key(value, accents: bool = True) -> str:
    """How a typed word is compared: NFC, case, runs of spaces, _ and - as one space; without `accents`
    also without diacritics (đ as d)."""
    s = re.sub(r"[\s_\-]+", " ", text(value).casefold()).strip()
    if not accents:
        s = "".join(ch for ch in unicodedata.normalize("NFD", s) if not unicodedata.combining(ch)).replace("đ", "d")
    return unicodedata.normalize("NFC", s)


def match(value, choices, aliases: dict | None = None) -> str | None:
    """The choice `value` means, or None: equal ignoring case, spaces and NFC; else equal without diacritics
    when that points at one choice only (or at one alias). A blank is ""."""
    if text(value) == "":
        return ""
    words = {c: c for c in choices} | dict(aliases or {})
    for accents in (True, False):
        hits = {words[w] for w in words if w != "" and word_key(w, accents) == word_key(value, accents)}
        if len(hits) == 1:
            return hits.pop()
        if hits:
            return None  # ambiguous without diacritics
    return None


def canonical(frame: pd.DataFrame, schema) -> pd.DataFrame:
    """The table with every enumerated value (a column with `choices`) written as its choice; what matches
    no choice is left as typed, for the schema check to reject at its cell."""
    frame = frame.copy()
    for name, column in schema.columns.items():
        meta = column.metadata or {}
        if "choices" in meta and name in frame:
            frame[name] = [v if v is None or (m := match(v, meta["choices"], meta["aliases"])) is None else (m or None)
                           for v in frame[name]]
    return frame


def _choice(*allowed, aliases: dict | None = None):
    def parse(v):
        s = match(v, allowed, aliases)
        if s is None:
            raise ValueError("phải là " + S.listing(allowed + tuple(aliases or {})))
        return s
    parse.choices = tuple(a for a in allowed if a)  # the blank master's dropdown for this setting
    return parse


EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>]+$")


def email_address(v) -> str:
    s = text(v).lower()
    if not EMAIL.match(s):
        raise ValueError("địa chỉ email dạng ten@donvi.gov.vn")
    return s


def _emails(v) -> tuple[str, ...]:
    return tuple(email_address(p) for p in re.split(r"[;,\s]+", text(v)) if p.strip())


def initials(body: str) -> str:
    """The issuing body's initials as in a document number: `Hội đồng Thi đua - Khen thưởng` -> `HĐTĐKT`."""
    return "".join(w[0] for w in re.findall(r"\w+", unicodedata.normalize("NFC", body))).upper()


def _doc_code(v) -> str:
    """A document code as written after "TTr-": `SNV`, `HĐTĐKT`, `UBND`; a typed "TTr-" or "/TTr-" is dropped."""
    s = re.sub(r"^/?\s*TTr\s*-\s*", "", text(v), flags=re.IGNORECASE)
    if not re.fullmatch(r"[^\W_](?:[\w.\-]*[^\W_])?", s):
        raise ValueError("ký hiệu viết liền, chỉ gồm chữ, số, dấu . và -, ví dụ SNV, HĐTĐKT hoặc UBND")
    return s


def _count(v) -> int:
    x = _num(v)
    if not (x.is_integer() and x >= 0):
        raise ValueError("phải là số nguyên không âm")
    return int(x)


def _port(v) -> int:
    x = _num(v)
    if not (x.is_integer() and 0 < x < 65536):
        raise ValueError("số cổng từ 1 đến 65535")
    return int(x)


def _yes(v) -> bool:
    return _YES(v) in ("có", "x")


_YES = _choice("có", "không", "x", "")
_YES.choices = ("có", "không")


def _chain(v) -> tuple[str, ...]:
    parts = []
    for p in (p.strip() for p in text(v).split(",") if p.strip()):
        group = re.fullmatch(r"nh[oó]m\s*:\s*([IVXLC]+)", p, re.IGNORECASE)
        word = match(p, TIE_BREAKS)
        if not (group or word):
            raise ValueError("dùng " + S.listing(("nhom:I",) + TIE_BREAKS, "và") + ", cách nhau bởi dấu phẩy")
        parts.append(f"nhom:{group.group(1).upper()}" if group else word)
    return tuple(parts)


TIE_BREAKS = ("it_diem_tru", "nhieu_diem_thuong", "phieu", "diem_tu_cham")

REQUIRED = object()
# key -> (Vietnamese label, parser, default)
SETTINGS = {
    "campaign_id": ("Mã đợt thi đua", text, REQUIRED),
    "year": ("Năm thi đua", lambda v: int(_num(v)), REQUIRED),
    "level": ("Cấp tổ chức", _choice("tỉnh", "bộ", "huyện", "xã"), "tỉnh"),
    "parent_body": ("Cơ quan chủ quản", text, ""),
    "issuing_body": ("Cơ quan ban hành", text, REQUIRED),
    "doc_code": ("Ký hiệu văn bản của cơ quan trình, ghi sau “TTr-” (ví dụ SNV, HĐTĐKT, UBND; để trống: chữ đầu của "
                 "cơ quan ban hành)", _doc_code, ""),
    "place": ("Địa danh (ghi ngày tháng)", text, REQUIRED),
    "deadline": ("Hạn nộp bản tự chấm", _date, REQUIRED),
    "reply_to": ("Email nhận bản tự chấm", email_address, ""),
    "scale": ("Thang điểm", _num, 100.0),
    "bonus_cap": ("Điểm thưởng tối đa", _num, 5.0),
    "deduction_cap": ("Điểm trừ tối đa", _num, None),
    "allow_over_scale": ("Tổng điểm được vượt thang điểm", _yes, False),
    "rounding": ("Số chữ số thập phân khi làm tròn tổng điểm", lambda v: int(_num(v)), 2),
    "grade_excellent": ("Xuất sắc: điểm tối thiểu", _num, 95.0),
    "grade_good": ("Tốt: điểm tối thiểu", _num, 85.0),
    "grade_fair": ("Khá: điểm tối thiểu", _num, 70.0),
    "grade_complete": ("Hoàn thành: điểm tối thiểu", _num, 50.0),
    "quorum": ("Tỷ lệ đơn vị có mặt tối thiểu", _share, Fraction(2, 3)),
    "leader_vote_share": ("Đơn vị dẫn đầu cần tỷ lệ phiếu suy tôn trên (%)", _num, 50.0),
    "tie_break": ("Thứ tự tách đồng hạng", _chain, ("nhom:I", "it_diem_tru", "nhieu_diem_thuong", "phieu")),
    "na_policy": ("Tiêu chí không áp dụng", _choice("quy_doi", "du_diem"), "quy_doi"),
    "review_tolerance": ("Điểm thẩm định lệch điểm tự chấm quá số điểm này thì phải ghi chú", _num, 2.0),
    "reform_date": ("Ngày chính quyền hai cấp có hiệu lực (từ ngày này không còn cấp huyện)", _date, dt.date(2025, 7, 1)),
    "legal_basis": ("Căn cứ pháp lý ghi trong lý do đề nghị (để trống: theo ngày ký)", text, ""),
    "head_rotation": ("Luân phiên Trưởng khối khi không bầu", _choice("pho_len_truong", "giu_nguyen"), "pho_len_truong"),
    "max_file_mb": ("Dung lượng tệp tối đa (MB)", _num, 10.0),
    "vote_base": ("Tỷ lệ phiếu tính trên (thanh_vien: số đơn vị thành viên; phieu_hop_le: số phiếu hợp lệ)",
                  _choice("thanh_vien", "phieu_hop_le"), "thanh_vien"),
    "proposal_date": ("Ngày ký danh sách đề nghị khen thưởng (để trống: ghi tay)", _date, None),
    "signer_title": ("Chức vụ người ký (TM. cơ quan ban hành)", text, "CHỦ TỊCH"),
    "signer_name": ("Họ và tên người ký", text, ""),
    "recipients": ("Nơi nhận (cách nhau bởi dấu ;)", lambda v: tuple(p.strip() for p in text(v).split(";") if p.strip()),
                   ("Lưu: VT, TĐKT",)),
    "mail_from": ("Email gửi mẫu cho các đơn vị (người gửi)", email_address, ""),
    "mail_from_name": ("Tên người gửi hiển thị trong thư", text, ""),
    "smtp_host": ("Máy chủ gửi thư SMTP (ví dụ mail.tinh.gov.vn)", text, ""),
    "smtp_port": ("Cổng SMTP (để trống: 587 với starttls, 465 với ssl, 25 với none)", _port, None),
    "smtp_security": ("Bảo mật SMTP", _choice("starttls", "ssl", "none"), "starttls"),
    "smtp_user": ("Tài khoản SMTP (mật khẩu không ghi ở đây: nhập khi gửi)", text, ""),
    "mail_trusted": ("Email được gửi bản tự chấm thay đơn vị (cán bộ thi đua, Trưởng khối; cách nhau bởi ;)",
                     _emails, ()),
    "matrix_blocs": ("Số khối tối đa có trang ma trận điểm trong kết quả (nhiều khối hơn: xem Nguồn số liệu)",
                     _count, 30),
    "claim_policy": ("Khoản thưởng, trừ vượt mức tối đa hoặc lệch bước điểm (cat: tính theo mức tối đa và bước, cảnh "
                     "báo; bo: không tính khoản đó, cảnh báo; loi: lỗi, bản tự chấm không được tính)",
                     _choice("cat", "bo", "loi"), "cat"),
}
# Header texts the award rules' columns had in older campaign.xlsx files: still read as that column.
OLD_HEADERS = {
    "Khen thưởng": {"min_vote_share": ("Tỷ lệ phiếu tối thiểu (%)",)},  # renamed: the share must be more than it
}
GRADE_KEYS = (("Xuất sắc", "grade_excellent"), ("Tốt", "grade_good"), ("Khá", "grade_fair"), ("Hoàn thành", "grade_complete"))


def read_settings(table: Table, file: str) -> tuple[Settings | None, list[Issue]]:
    issues: list[Issue] = []
    rows = {text(k): (row, v) for row, k, v in zip(table.frame.index, table.frame["key"], table.frame["value"])}
    values = {}
    for key, (label, parse, default) in SETTINGS.items():
        row, raw = rows.get(key, (None, ""))
        if text(raw) == "":
            if default is REQUIRED:
                issues.append(Issue("setting_missing", file=file, sheet=table.sheet,
                                    cell=table.cell("value", row) if row else "", params={"key": key, "label": label}))
            values[key] = None if default is REQUIRED else default
            continue
        try:
            values[key] = parse(raw)
        except (ValueError, ZeroDivisionError) as e:
            issues.append(Issue("setting_invalid", file=file, sheet=table.sheet, cell=table.cell("value", row),
                                params={"key": key, "value": text(raw), "rule": str(e)}))
            values[key] = None if default is REQUIRED else default
    if issues and any(values[k] is None for k, (_, _, d) in SETTINGS.items() if d is REQUIRED):
        return None, issues
    grades = tuple((name, values.pop(key)) for name, key in GRADE_KEYS)
    return Settings(**values, grades=grades), issues


# --- the law by date ------------------------------------------------------------------------

# The law and its decree in force on a signing date, latest last: (from, law, decree).
LAWS = (
    (dt.date(2017, 7, 31), "Luật Thi đua, Khen thưởng năm 2003 (sửa đổi, bổ sung năm 2013)", "Nghị định số 91/2017/NĐ-CP"),
    (dt.date(2024, 1, 1), "Luật Thi đua, khen thưởng năm 2022", "Nghị định số 98/2023/NĐ-CP"),
    (dt.date(2025, 7, 1), "Luật Thi đua, khen thưởng năm 2022", "Nghị định số 152/2025/NĐ-CP"),
)
# What a legal basis may cite, and when it was in force: [from, until).
INSTRUMENTS = {
    "91/2017": ("Nghị định số 91/2017/NĐ-CP", dt.date(2017, 7, 31), dt.date(2024, 1, 1)),
    "98/2023": ("Nghị định số 98/2023/NĐ-CP", dt.date(2024, 1, 1), dt.date(2025, 7, 1)),
    "152/2025": ("Nghị định số 152/2025/NĐ-CP", dt.date(2025, 7, 1), None),
    "2003": ("Luật Thi đua, Khen thưởng năm 2003", dt.date(2004, 7, 1), dt.date(2024, 1, 1)),
    "2022": ("Luật Thi đua, khen thưởng năm 2022", dt.date(2024, 1, 1), None),
}
_CITED = re.compile(r"(?:nghị định|nđ)[^0-9;]{0,8}(\d+/\d{4})|(\d+/\d{4})/nđ-cp|luật[^;0-9]*?(\d{4})")


def law_in_force(when: dt.date) -> tuple[str, str]:
    """(law, decree) on that date; before 2017 the earliest the pipeline knows."""
    return next(((law, decree) for start, law, decree in reversed(LAWS) if when >= start), LAWS[0][1:])


def legal_basis(s: Settings) -> str:
    """What the reasons quote: the `legal_basis` setting, else the law and decree in force on the signing date."""
    return s.legal_basis or "; ".join(law_in_force(s.signing_date))


def decree(s: Settings) -> str:
    """The decree in force on the signing date, short (Nghị định 152/2025/NĐ-CP)."""
    return law_in_force(s.signing_date)[1].replace(" số ", " ")


def cited_out_of_force(basis: str, when: dt.date) -> list[str]:
    """The instruments a legal basis cites that are not in force on `when`, each with its dates."""
    found = []
    for m in _CITED.finditer(basis.casefold()):
        ref = next(g for g in m.groups() if g)
        known = INSTRUMENTS.get(ref)
        if known is None:
            year = int(ref.rsplit("/", 1)[-1])
            if year > when.year:
                found.append(f"{ref} (ban hành sau ngày ký)")
            continue
        name, start, until = known
        if when < start or (until is not None and when >= until):
            found.append(f"{name} (hiệu lực từ {start:%d/%m/%Y}" + (f" đến trước {until:%d/%m/%Y})" if until else ")"))
    return list(dict.fromkeys(found))


# --- loading --------------------------------------------------------------------------------

def _missing(v) -> bool:
    """A blank cell as a frame holds it (None, NaN, NA)."""
    import pandas as pd  # here, not at the top: a stage that only loads the kept campaign never imports pandas

    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _s(v) -> str:
    return "" if _missing(v) else text(v)


def _f(v) -> float | None:
    return None if _missing(v) else float(v)


def _i(v) -> int | None:
    return None if _missing(v) else int(v)


def _codes(v) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"[,;]", _s(v)) if p.strip())


def _conditions(v) -> tuple[tuple[str, str], ...]:
    pairs = [(p.split("=", 1) + [""])[:2] for p in _codes(v)]
    return tuple((match(name.strip(), CONDITIONS) or name.strip(), value.strip()) for name, value in pairs)


def award_code(c: Campaign, value) -> str | None:
    """The campaign's award code a registration or history row means: its code or its title, typed the way
    people type (case, spaces, diacritics); the master's suggested codes count too. None: no award."""
    titles = {r.award: r.code for r in c.award_rules if r.award}
    titles |= {code: code for code in c.awards} | {t: code for code, t in c.awards.items()}
    titles |= {code: code for code in AWARDS if code not in titles} | {t: code for code, t in AWARDS.items() if t not in titles}
    return match(value, (), titles) or None


def _frame(tables: dict[str, Table], schema) -> pd.DataFrame:
    import pandas as pd

    table = tables.get(schema.name)
    return table.frame if table is not None else pd.DataFrame(columns=list(schema.columns))


def build(settings: Settings, tables: dict[str, Table]) -> Campaign:
    f = lambda schema: _frame(tables, schema).to_dict("records")  # noqa: E731
    campaign = Campaign(
        settings=settings,
        blocs=tuple(Bloc(_s(r["code"]), _s(r["name"]), _s(r["head"]), _s(r["deputy"])) for r in f(S.BLOCS)),
        units=tuple(Unit(_s(r["code"]), _s(r["name"]), _s(r["short_name"]) or _s(r["name"]), _s(r["bloc"]), _s(r["email"]),
                         tuple(k for k in BLOCKERS if _s(r[k]) == "x")) for r in f(S.UNITS)),
        criteria=tuple(Criterion(_s(r["code"]), _s(r["group"]) or _s(r["code"]).split(".")[0], _s(r["text"]), _s(r["kind"]),
                                 _f(r["max"]) or 0.0, _f(r["step"]), _f(r["target"]), _codes(r["applies_to"]),
                                 _s(r["explanation"])) for r in f(S.CRITERIA)),
        items=tuple(Item(_s(r["code"]), _s(r["kind"]), _s(r["text"]), _f(r["points"]) or 0.0, _f(r["cap"]) or 0.0)
                    for r in f(S.ITEMS)),
        award_rules=tuple(AwardRule(
            _s(r["code"]), _s(r["award"]), _s(r["issuer"]), _s(r["issuer_before_reform"]), _i(r["priority"]) or 1,
            _i(r["rank_from"]), _i(r["rank_to"]), _f(r["top_share"]), _s(r["min_grade"]), _f(r["min_score"]),
            _f(r["min_vote_share"]), _s(r["must_register"]) == "x", _i(r["quota"]), _f(r["quota_share"]),
            _s(r["quota_rounding"]), _conditions(r["conditions"])) for r in f(S.AWARD_RULES)),
    )
    # Registrations and history name the campaign's awards by code or title: kept as the code they mean.
    grade = lambda v: match(v, S.GRADES + (S.FAILED,)) or v  # noqa: E731
    da_nhan = lambda name, v: award_code(campaign, v) or v if name == "da_nhan" else v  # noqa: E731
    return replace(
        campaign,
        award_rules=tuple(replace(r, conditions=tuple((n, da_nhan(n, v)) for n, v in r.conditions))
                          for r in campaign.award_rules),
        history=tuple(HistoryRow(_s(r["unit"]), _i(r["year"]) or 0, _s(r["kind"]),
                                 grade(_s(r["value"])) if _s(r["kind"]) == "xếp loại"
                                 else award_code(campaign, _s(r["value"])) or _s(r["value"]), _s(r["revoked"]) == "x")
                      for r in f(S.HISTORY)),
        registrations=tuple((_s(r["unit"]), award_code(campaign, _s(r["award"])) or _s(r["award"]))
                            for r in f(S.REGISTRATIONS)),
    )
