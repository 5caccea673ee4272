"""What a run reports.

    console.py        the summary printed after a run
    html.py           report.html: status and warnings first, scores, programs, disagreements, plots
    page_data.py      what the report page shows beyond the scores (computed once, kept in report.json)
    outputs.py        labels.csv (a label for every row) and the per-program rows of the report
    evidence.py       the review screen's data: per-program evidence, valid mistakes, turning programs off
"""
