"""report_page: renders the report, a list of blocks, as Markdown (plots
linked) and as one self-contained HTML page (plots inlined as base64 PNG,
styles inline, nothing fetched from the network).

Blocks, as tuples:
  ("h1" | "h2" | "h3", text)
  ("p", text)
  ("figure", png file name in the output directory, caption, scenario id or None)
  ("table", [header cells], [[cells], ...])
"""
import base64
import html
import os

STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-style: italic; font-size: 0.9em; color: #444; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; }
th { background: #eee; }
"""


def markdown(blocks):
    """The report as Markdown text; figures link their PNG by name."""
    lines = []
    marks = {"h1": "#", "h2": "##", "h3": "###"}
    for b in blocks:
        kind = b[0]
        if kind in marks:
            lines += [f"{marks[kind]} {b[1]}", ""]
        elif kind == "p":
            lines += [b[1], ""]
        elif kind == "figure":
            lines += [f"![{b[3] or b[1]}]({b[1]})", "", f"*{b[2]}*", ""]
        elif kind == "table":
            head, rows = b[1], b[2]
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _png_data(out, name):
    with open(os.path.join(out, name), "rb") as f:
        return base64.b64encode(f.read()).decode("ascii")


def page(blocks, out, title):
    """The report as one HTML document; PNGs are read from out and inlined."""
    e = html.escape
    body = []
    for b in blocks:
        kind = b[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{e(b[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{e(b[1])}</p>")
        elif kind == "figure":
            scn = f' data-scenario="{e(b[3])}"' if b[3] else ""
            body.append(f'<figure{scn}><img alt="{e(b[1])}" '
                        f'src="data:image/png;base64,{_png_data(out, b[1])}">'
                        f"<figcaption>{e(b[2])}</figcaption></figure>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(c))}</th>" for c in b[1])
            rows = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>"
                           for r in b[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
