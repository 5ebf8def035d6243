"""TEST DATA for the rendering tests: a complete report context with made-up numbers.

The shape is the one documented in docs/report-context.md. The status is ``fictitious`` so that
every output carries the "FIKTIVE DATA" notice. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

from lpj_report import charts
from lpj_report import format as fmt

PLACES = ["Forvaltning", "Skole", "Vuggestue/børnehave", "Hjemmepleje", "Dagplejen"]
LEVELS = ["Lav læring", "Middel læring", "Høj læring"]
SHARES = [
    [20.0, 45.5, 34.5],
    [50.0, 30.0, 20.0],
    [22.0, 48.0, 30.0],
    [35.0, 40.0, 25.0],
    [57.0, 33.0, 10.0],
]
BASES = [412, 388, 170, 301, 96]


def _table(groups, categories, values, bases, decimals=1):
    return {
        "columns": ["Arbejdssted", *categories, "Antal svar"],
        "rows": [
            [group, *[fmt.percent(v, decimals) for v in row], fmt.count(base)]
            for group, row, base in zip(groups, values, bases, strict=True)
        ],
    }


def demo_context() -> dict:
    """A complete report context with made-up (fictitious) numbers."""
    ranked_labels = [
        "Opbakning fra kolleger",
        "Udfordrende opgaver",
        "Egen nysgerrighed",
        "Tillidsfuldt miljø",
        "Evaluering",
        "Kurser",
    ]
    ranked_values = [55.5, 48.25, 40.1, 33.3, 20.15, 10.0]
    top = sorted(zip(ranked_labels, ranked_values, strict=True), key=lambda p: -p[1])[:5]
    return {
        "meta": {
            "title": "Læring på jobbet",
            "subtitle": "– et overblik (testdata)",
            "publisher": "KL og KTO",
            "edition": "Genberegnet udgave, testkørsel",
            "status": "fictitious",
            "created": "2002-09-01",
            "description": "Testrapport med opdigtede tal til afprøvning af lpj-report.",
            "provenance": {
                "data_file": "testdata.csv",
                "data_sha256": "0" * 64,
                "codebook_version": "test",
                "code_version": "lpj-report 0.1.0 (test)",
                "build_date": fmt.date_long("2002-09-01"),
            },
        },
        "foreword": {
            "title": "Forord",
            "paragraphs": [
                "Læring på jobbet er et af de emner i kommunal personalepolitik, "
                "der ikke er forsket meget i. Æbleøstersøen ærgrer sig over ålegræsset."
            ],
            "signature": "KL og KTO, september 2002",
        },
        "introduction": {
            "id": "indledning",
            "title": "Indledning",
            "blocks": [
                {
                    "type": "text",
                    "paragraphs": [
                        f"Der er udsendt {fmt.count(2249)} spørgeskemaer, og {fmt.count(1680)} "
                        f"er kommet retur. Svarprocenten blev {fmt.percent(74.7, 0)}."
                    ],
                },
                {
                    "type": "factbox",
                    "title": "Tolv kommuner medvirker",
                    "items": ["Bramsnæs Kommune", "Ejby Kommune", "Aalborg Kommune"],
                },
            ],
        },
        "chapters": [
            {
                "id": "kapitel-2",
                "label": "Kapitel 2",
                "title": "Læring i kommunerne",
                "intro": ["Kapitlet ser på den læring, medarbejderne oplever i jobbet."],
                "key_points": [
                    f"{fmt.percent(21.4, 0)} har lav oplevet læring",
                    f"Dagplejen ligger på {fmt.place_word(1)} med lav læring",
                ],
                "blocks": [
                    {
                        "type": "text",
                        "heading": "Et mål for oplevet læring",
                        "paragraphs": [
                            "Hvert svar tæller med i et samlet mål for læring, så medarbejderne "
                            "kan inddeles i tre lige store grupper med lav, middel og høj læring.",
                            f"Forskellen fra sidste måling er {fmt.pp(-1.5, 1)}.",
                        ],
                    },
                    {
                        "type": "figure",
                        "title": "Oplevet læring, alle medarbejdere",
                        "alt": "Lagkagediagram: 21 % lav, 45 % middel og 34 % høj oplevet læring.",
                        "svg": charts.pie(LEVELS, [21.4, 45.3, 33.3]),
                        "table": _table(["Alle"], LEVELS, [[21.4, 45.3, 33.3]], [1268]),
                        "note": "Kilde: testdata. Procenter af medarbejdere med svar.",
                    },
                    {
                        "type": "highlight",
                        "value": fmt.percent(57, 0),
                        "text": "af dagplejerne ligger i gruppen med lav læring.",
                    },
                    {
                        "type": "figure",
                        "title": "Oplevet læring fordelt på arbejdssted",
                        "alt": "Lagkager for fem arbejdssteder; flest med lav læring i dagplejen.",
                        "svg": charts.pies(PLACES, LEVELS, SHARES, columns=5),
                        "table": _table(PLACES, LEVELS, SHARES, BASES),
                    },
                    {
                        "type": "figure",
                        "title": "Andel med lav oplevet læring",
                        "alt": "Søjlediagram: dagplejen 57 %, skole 50 %, hjemmepleje 35 %.",
                        "svg": charts.bar(PLACES, [r[0] for r in SHARES], sort=True, decimals=0),
                        "table": _table(PLACES, ["Lav læring"], [[r[0]] for r in SHARES], BASES),
                    },
                ],
            },
            {
                "id": "kapitel-3",
                "label": "Kapitel 3",
                "title": "Fremmende og hæmmende faktorer",
                "key_points_title": "Tre væsentlige pointer i kapitlet",
                "key_points": [
                    "Kolleger er vigtigst",
                    "Kurser vurderes højt",
                    "Ledere vægter nære metoder",
                ],
                "blocks": [
                    {
                        "type": "figure",
                        "title": "Arbejdsopgavernes variation efter arbejdssted",
                        "alt": "Stablede søjler: 52-77 % har forskellige opgaver.",
                        "svg": charts.stacked(
                            PLACES,
                            ["Forskellige", "Ens"],
                            [[77, 23], [75, 25], [69, 31], [60, 40], [52, 48]],
                        ),
                        "table": _table(
                            PLACES,
                            ["Forskellige", "Ens"],
                            [[77, 23], [75, 25], [69, 31], [60, 40], [52, 48]],
                            BASES,
                            0,
                        ),
                    },
                    {
                        "type": "figure",
                        "title": "Hvad fremmer medarbejderens læring? Top 5",
                        "alt": "Rangordnede søjler: opbakning fra kolleger er oftest nævnt.",
                        "svg": charts.ranked(ranked_labels, ranked_values, top=5, decimals=1),
                        "table": {
                            "columns": ["Faktor", "Andel"],
                            "rows": [[label, fmt.percent(v, 1)] for label, v in top],
                        },
                    },
                    {
                        "type": "figure",
                        "title": "Ledernes tid fordelt på ledelsestype",
                        "alt": "Grupperede søjler for fire områder og tre typer ledelse.",
                        "svg": charts.grouped(
                            ["Forvaltning", "Dagpasning", "Skole", "Ældre"],
                            ["Faglig", "Personale", "Strategisk"],
                            [[30, 40, 30], [20, 55, 25], [35, 45, 20], [25, 60, 15]],
                        ),
                        "table": {
                            "columns": ["Område", "Faglig", "Personale", "Strategisk"],
                            "rows": [
                                ["Forvaltning", "30 %", "40 %", "30 %"],
                                ["Dagpasning", "20 %", "55 %", "25 %"],
                                ["Skole", "35 %", "45 %", "20 %"],
                                ["Ældre", "25 %", "60 %", "15 %"],
                            ],
                        },
                    },
                    {
                        "type": "list",
                        "heading": "Metoder",
                        "items": ["Sidemandsoplæring", "Jobbytte"],
                    },
                ],
            },
        ],
        "appendices": [
            {
                "id": "bilag-a",
                "label": "Bilag A",
                "title": "Svarprocenter",
                "blocks": [
                    {
                        "type": "table",
                        "title": "Udsendte og modtagne skemaer",
                        "table": {
                            "columns": ["Rolle", "Udsendt", "Modtaget", "Svarprocent"],
                            "rows": [
                                [
                                    "Medarbejdere",
                                    fmt.count(1800),
                                    fmt.count(1314),
                                    fmt.percent(73, 0),
                                ],
                                ["Ledere", fmt.count(300), fmt.count(288), fmt.percent(96, 0)],
                            ],
                        },
                        "note": "Testdata.",
                    },
                ],
            }
        ],
    }
