"""A report as one self-contained HTML file: it opens and prints anywhere, with no network.

- Thumbnails (the asset store's cached previews, downscaled JPEG or PNG) are embedded as
  `data:` URIs; the CSS is inline, print rules included (A4, a job never split across pages);
  fonts are the reader's own. There is no script and no link out of the file: the only
  `href`s are anchors inside it, and a Content-Security-Policy (`default-src 'none'`) tells a
  browser to load nothing even if something slipped in.
- Every text from the history (names, notes, parameters, errors) is HTML-escaped; the "://"
  of an address in such a text is written `&#58;//`, which reads the same but is no address
  for tools that scan the file for them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from desktop import __version__
from desktop.core import imaging
from desktop.core.assets import AssetStore
from desktop.core.exports.report_data import Entry, Report, local_iso
from desktop.core.humanize import human_bytes, human_duration
from desktop.core.model import Asset, InvalidInput, Output, OutputKind
from desktop.core.rankings import Interval, ProviderRanking, Rankings
from desktop.core.reviews import Review
from desktop.core.store import History

OUTPUT_THUMB = 360
INPUT_THUMB = 160

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1d1d1f; background: #fff; margin: 24px auto; max-width: 1100px;
       padding: 0 16px; line-height: 1.4; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
h4 { font-size: 13px; margin: 4px 0; color: #444; }
.media { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.meta { color: #555; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #0b57d0; text-decoration: none; }
.job { border: 1px solid #ccc; border-radius: 6px; padding: 12px; margin: 14px 0;
       break-inside: avoid; page-break-inside: avoid; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px; }
.facts dt { color: #555; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.state-succeeded { color: #146c2e; font-weight: 600; }
.state-failed, .state-timed_out, .state-cancelled { color: #b3261e; font-weight: 600; }
.pictures { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
figure { margin: 0; max-width: 370px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #ddd;
             background: #fafafa; }
figcaption { font-size: 12px; color: #333; margin-top: 3px; overflow-wrap: anywhere; }
.missing { width: 160px; height: 100px; border: 1px dashed #bbb; color: #777; font-size: 12px;
           display: flex; align-items: center; justify-content: center; text-align: center;
           padding: 6px; }
.reviews { list-style: none; padding: 0; margin: 4px 0 0; font-size: 12px; }
.reviews li { margin: 2px 0; }
.pass { color: #146c2e; font-weight: 600; }
.fail { color: #b3261e; font-weight: 600; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: 12px; }
.note { color: #555; font-size: 12px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 11px; }
  .job { border-color: #999; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; " \
       "form-action 'none'"


def text(value: object) -> str:
    """Any value as HTML text: escaped, addresses defused."""
    return html.escape(str(value), quote=True).replace("://", "&#58;//")


def report_html(report: Report, history: History, assets: AssetStore) -> str:
    """The whole report as one HTML document (blocking: it reads and makes thumbnails)."""
    pictures = _Pictures(history, assets)
    count = len(report.entries)
    title = f"Restyle report: {count} job{'' if count == 1 else 's'}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{text(title)}</h1>",
        f'<p class="meta">Made {text(local_iso(report.generated_at))} by Restyle '
        f"{text(__version__)}. {report.reviews} review{'' if report.reviews == 1 else 's'}, "
        f"{report.votes} vote{'' if report.votes == 1 else 's'}.</p>",
        _overview(report),
    ]
    if report.rankings is not None:
        parts.append(_providers(report.rankings, report.votes, report.reviews))
    parts.append("<h2>Jobs</h2>")
    parts.extend(_job(entry, pictures) for entry in report.entries)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _overview(report: Report) -> str:
    rows = []
    for entry in report.entries:
        job = entry.job
        rows.append(
            f'<tr><td><a href="#job-{text(job.id)}">{text(job.id[:12])}</a></td>'
            f"<td>{text(local_iso(job.created_at))}</td><td>{text(job.provider)}</td>"
            f"<td>{text(job.task)}</td><td>{_state(job.state)}</td>"
            f'<td class="num">{len(job.outputs)}</td>'
            f'<td class="num">{text(_duration(job.duration_ms))}</td>'
            f'<td class="num">{text(_credits(job.cost_credits))}</td></tr>')
    return ("<h2>Overview</h2><table><thead><tr><th>Job</th><th>Created</th><th>Provider</th>"
            "<th>Task</th><th>State</th><th>Outputs</th><th>Duration</th><th>Credits</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _providers(rankings: Rankings, votes: int, reviews: int) -> str:
    rows = "".join(_provider_row(row) for row in rankings.providers)
    agreement = rankings.agreement
    if agreement.kappa is not None:
        method = "Cohen's" if agreement.method == "cohen" else "Fleiss'"
        agree = (f"Agreement: {method} kappa {agreement.kappa:.2f} on {agreement.items} "
                 f"outputs reviewed by {agreement.reviewers} people. {agreement.note}")
    else:
        agree = f"Agreement: {agreement.note}"
    notes = [agree.strip()]
    fit = rankings.fit
    if not fit.connected and len(fit.components) > 1:
        groups = "; ".join(", ".join(g) for g in fit.components)
        notes.append(f"Some providers were never compared with each other ({groups}); "
                     "strengths compare only within a group.")
    return (f"<h2>Providers</h2><p class=\"meta\">From {votes} vote{'' if votes == 1 else 's'}"
            f" and {reviews} review{'' if reviews == 1 else 's'} of these jobs; intervals are "
            "95 %.</p><table><thead><tr><th>Provider</th><th>Strength</th><th>Wins / votes"
            "</th><th>Pass rate</th><th>Mean stars</th><th>Median time</th>"
            "<th>Credits per pass</th><th>Top defects</th></tr></thead><tbody>" + rows
            + "</tbody></table>" + "".join(f'<p class="note">{text(n)}</p>' for n in notes))


def _provider_row(row: ProviderRanking) -> str:
    review = row.review
    strength = "-" if row.strength is None else f"{row.strength:.2f}{_ci(row.strength_ci)}"
    rate = "-"
    if review.pass_rate is not None:
        rate = f"{review.pass_rate * 100:.0f} %"
        if review.pass_rate_ci is not None:
            ci = review.pass_rate_ci
            rate += f" ({ci.low * 100:.0f}-{ci.high * 100:.0f} %)"
    stars = "-" if review.mean_stars is None else f"{review.mean_stars:.1f}"
    median = _duration(None if review.median_duration_s is None
                       else review.median_duration_s * 1000)
    credits = "-" if review.credits_per_pass is None else f"{review.credits_per_pass:g}"
    defects = ", ".join(f"{tag} ({count})" for tag, count in review.top_defects) or "-"
    return (f"<tr><td>{text(row.provider)}</td><td>{text(strength)}</td>"
            f'<td class="num">{row.wins} / {row.votes}</td><td>{text(rate)}</td>'
            f'<td class="num">{text(stars)}</td><td class="num">{text(median)}</td>'
            f'<td class="num">{text(credits)}</td><td>{text(defects)}</td></tr>')


def _ci(interval: Interval | None) -> str:
    return "" if interval is None else f" ({interval.low:.2f}-{interval.high:.2f})"


def _job(entry: Entry, pictures: _Pictures) -> str:
    job = entry.job
    facts = [
        ("Job", job.id), ("Created", local_iso(job.created_at)),
        ("Provider / task", f"{job.provider} / {job.task}"),
    ]
    if job.remote_id:
        facts.append(("Remote id", job.remote_id))
    facts.extend([("Duration", _duration(job.duration_ms)),
                  ("Credits", _credits(job.cost_credits))])
    if job.note:
        facts.append(("Note", job.note))
    rows = "".join(f"<dt>{text(k)}</dt><dd>{text(v)}</dd>" for k, v in facts)
    rows += f"<dt>State</dt><dd>{_state(job.state)}"
    if job.error is not None:
        rows += f": {text(job.error.message)} ({text(job.error.code)})"
    rows += "</dd>"
    if job.spec.params:
        params = json.dumps(job.spec.params, ensure_ascii=False, indent=1, sort_keys=True,
                            default=str)
        rows += f"<dt>Parameters</dt><dd><pre>{text(params)}</pre></dd>"
    inputs = "".join(
        _figure(pictures.of(item.sha256, None, INPUT_THUMB), f"{item.role}: {item.name}")
        for item in entry.inputs)
    outputs = "".join(_output(item.output, item.reviews, pictures) for item in entry.outputs)
    body = [f'<article class="job" id="job-{text(job.id)}">',
            f"<h3>{text(job.provider)} / {text(job.task)}: {text(job.id[:12])}</h3>",
            f'<dl class="facts">{rows}</dl><div class="media">']
    if inputs:
        body.append(f'<section><h4>Inputs</h4><div class="pictures">{inputs}</div></section>')
    body.append(f'<section><h4>Outputs</h4><div class="pictures">{outputs}</div></section>'
                if outputs else '<p class="note">No outputs.</p>')
    body.append("</div></article>")
    return "".join(body)


def _output(output: Output, reviews: Iterable[Review], pictures: _Pictures) -> str:
    size = f"{output.width}x{output.height}, " if output.width and output.height else ""
    caption = (f"Output {output.position + 1}" + (f": {output.label}" if output.label else "")
               + f" ({size}{human_bytes(output.size)})")
    if output.kind == OutputKind.IMAGE:
        picture = pictures.of(output.sha256, output.mime, OUTPUT_THUMB)
    else:
        picture = _Picture(None, f"{output.kind} ({output.mime})")
    items = "".join(f"<li>{_review(r)}</li>" for r in reviews)
    extra = f'<ul class="reviews">{items}</ul>' if items else ""
    return _figure(picture, caption, extra)


def _review(review: Review) -> str:
    parts = [f"<strong>{text(review.reviewer)}</strong>:"]
    if review.verdict is not None:
        parts.append(f'<span class="{text(review.verdict)}">{text(review.verdict)}</span>')
    if review.stars is not None:
        parts.append(text("★" * review.stars + "☆" * (5 - review.stars)))
    if review.tags:
        parts.append(f"[{text(', '.join(review.tags))}]")
    if review.note:
        parts.append(f"“{text(review.note)}”")
    return " ".join(parts)


class _Picture:
    def __init__(self, data_uri: str | None, problem: str = "") -> None:
        self.data_uri = data_uri
        self.problem = problem


class _Pictures:
    """Thumbnails from the asset store's cache, as data URIs (made once per image)."""

    def __init__(self, history: History, assets: AssetStore) -> None:
        self.history = history
        self.assets = assets
        self._made: dict[tuple[str, int], _Picture] = {}

    def of(self, sha256: str, mime: str | None, size: int) -> _Picture:
        key = (sha256, size)
        if key not in self._made:
            self._made[key] = self._make(sha256, mime, size)
        return self._made[key]

    def _make(self, sha256: str, mime: str | None, size: int) -> _Picture:
        asset = self.history.asset(sha256)
        if asset is None and mime is not None:
            asset = Asset(sha256, mime, 0)
        if asset is None or not self.assets.exists(asset):
            return _Picture(None, "The file is no longer in the asset store.")
        try:
            thumb = self.assets.thumbnail(asset, size)
            data = thumb.read_bytes()
        except InvalidInput as exc:
            return _Picture(None, str(exc))
        except OSError as exc:
            return _Picture(None, f"The preview cannot be made ({exc.strerror or exc}).")
        kind = "image/png" if thumb.suffix == ".png" else "image/jpeg"
        return _Picture(imaging.to_data_uri(data, kind))


def _figure(picture: _Picture, caption: str, extra: str = "") -> str:
    if picture.data_uri is not None:
        img = f'<img src="{picture.data_uri}" alt="{text(caption)}">'
    else:
        img = f'<div class="missing">{text(picture.problem)}</div>'
    return f"<figure>{img}<figcaption>{text(caption)}{extra}</figcaption></figure>"


def _state(state: object) -> str:
    return f'<span class="state-{text(state)}">{text(state)}</span>'


def _duration(ms: float | None) -> str:
    return "-" if ms is None else human_duration(ms / 1000)


def _credits(credits: float | None) -> str:
    return "-" if credits is None else f"{credits:g}"
