"""The printable 経歴証明: one HTML page with the statement's figures and records in Japanese,
the whole proof embedded as JSON (so the page itself can be checked: `ledger verify-proof
page.html --public-key …`), and a QR code of the proof's SHA-256 (segno), so a paper copy can
be matched with the file it was printed from."""

from __future__ import annotations

import html
import re
from typing import Any

import segno

from ledger.domain.settlement.career_proof import (
    CareerProof,
    CareerProofError,
    CareerProofFormatError,
)

EMBEDDED_ID = "career-proof"
_EMBEDDED = re.compile(
    rb'<script type="application/json" id="career-proof">(.*?)</script>', re.DOTALL)
_FINGERPRINT = re.compile(rb'<meta name="career-proof-sha256" content="([0-9a-f]{64})">')

PROVES_JA = (
    "台帳の封印鍵が、技能者・職種・期間・各日数・各就業履歴を含むこの証明に署名している",
    "各就業履歴の根拠となるイベントが、署名された日次ログに含まれている (RFC 6962 包含証明)",
    "イベントの内容が、その就業履歴の技能者・現場・就業日を示している",
    "各日数が、記載された就業履歴と経歴証明から数えた値と一致する",
)
NOT_PROVEN_JA = (
    "台帳が保持するすべての就業履歴が記載されていること (記載のない履歴は検証できない)",
    "カードによる就業履歴の職種・立場 (現場の作業員名簿による)",
    "カードと技能者、読取機と現場の対応 (台帳の署名付きの記載のみ)",
    "経歴証明の根拠となるイベント (日数は署名済みだが、イベントの証明は含まない)",
    "封印済みの最終日より後に記録されたもの",
)


def render(proof: CareerProof) -> str:
    s = proof.statement
    figures = s["figures"]
    fingerprint = proof.sha256()
    qr = segno.make(f"sha256:{fingerprint}", error="m").svg_inline(scale=3)
    payload = proof.to_json().decode().replace("</", "<\\/")
    rows = "".join(_row(r["work_date"], r["site_id"], r["employer_business_id"], r["trade"],
                        r["position"], _SOURCE.get(r["source"], r["source"]), len(r["events"]))
                   for r in s["records"])
    left = "".join(_row(r["work_date"], r["site_id"], r["trade"], r["position"], r["reason"])
                   for r in s["left_out"])
    proven, counted, certified = figures["proven"], figures["ledger"], figures["certified"]
    period = f"{s['period']['from'] or '—'} 〜 {s['period']['to']}"
    return f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="career-proof-sha256" content="{fingerprint}">
<title>経歴証明書 {_e(s['technician_id'])} {_e(s['trade_name'])}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #888; padding: 2px 6px; }} .qr {{ float: right; text-align: center; }}
code {{ word-break: break-all; }}
</style></head><body>
<div class="qr">{qr}<br><small>証明の SHA-256</small></div>
<h1>経歴証明書 (就業履歴の証明)</h1>
<table>
{_row_h("技能者ID", s["technician_id"])}{_row_h("職種", f"{s['trade_name']} ({s['trade']})")}
{_row_h("期間", period)}{_row_h("封印済みの最終日", s["sealed_through"])}
{_row_h("発行日", s["issued_on"])}{_row_h("署名鍵ID", s["key_id"])}
</table>
<h2>日数</h2>
<table><tr><th></th><th>証明済み</th><th>台帳の計上 (能力評価の入力)</th></tr>
{_row_h("就業日数 (全職種)", proven["work_days"], counted["work_days"])}
{_row_h("就業日数 (この職種)", proven["trade_work_days"], counted["trade_work_days"])}
{_row_h("職長日数", proven["foreman_days"], counted["foreman_days"])}
{_row_h("班長日数 (職長の日を除く)", proven["team_leader_days"], counted["team_leader_days"])}
{_row_h("就業履歴数 (この職種)", proven["record_count"], counted["record_count"])}
</table>
<p>経歴証明 (CCUS 以前、この職種): 就業 {certified["work_days"]} 日、職長
{certified["foreman_days"]} 日、班長 {certified["team_leader_days"]} 日
(証明書 {len(s["certificates"])} 件)。
他職種の経歴証明: {figures["certified_other_trades_days"]} 日。</p>
<h2>証明済みの就業履歴 ({len(s["records"])} 件)</h2>
<table><tr><th>就業日</th><th>現場ID</th><th>所属事業者ID</th><th>職種</th><th>立場</th>
<th>出所</th><th>イベント数</th></tr>{rows}</table>
<h2>未封印のため除外した就業履歴 ({len(s["left_out"])} 件)</h2>
<table><tr><th>就業日</th><th>現場ID</th><th>職種</th><th>立場</th><th>理由</th></tr>{left}</table>
<h2>検証</h2>
<p>このページには証明の全体 (JSON) が埋め込まれています。
台帳の公開鍵で、データベースなしに検証できます:
<code>ledger verify-proof このファイル --public-key 公開鍵</code></p>
<p>SHA-256: <code>{fingerprint}</code></p>
<p>証明すること:</p><ul>{"".join(f"<li>{_e(t)}</li>" for t in PROVES_JA)}</ul>
<p>証明しないこと:</p><ul>{"".join(f"<li>{_e(t)}</li>" for t in NOT_PROVEN_JA)}</ul>
<script type="application/json" id="{EMBEDDED_ID}">{payload}</script>
</body></html>
"""


def extract(page: bytes) -> CareerProof:
    """The proof embedded in a printed page; its SHA-256 must be the one the page prints."""
    found = _EMBEDDED.search(page)
    if found is None:
        raise CareerProofFormatError("the page embeds no career proof")
    proof = CareerProof.from_json(found.group(1).replace(b"<\\/", b"</"))
    printed = _FINGERPRINT.search(page)
    if printed is None or printed.group(1).decode() != proof.sha256():
        raise CareerProofError("the page's printed SHA-256 (and QR code) is not the embedded "
                               "proof's: the page was changed after printing")
    return proof


def is_page(data: bytes) -> bool:
    return data.lstrip()[:15].lower().startswith(b"<!doctype html")


_SOURCE = {"card": "カード", "manual": "直接入力", "corrected": "修正", "phone": "スマホ"}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _row(*cells: Any) -> str:
    return "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>\n"


def _row_h(head: str, *cells: Any) -> str:
    return f"<tr><th>{_e(head)}</th>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>\n"
