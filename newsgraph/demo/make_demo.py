"""Regenerate the bundled demo collection in ``newsgraph/demo/site/``.

All text below is original, written for the demo: every provider, person,
place and domain is fictional (``.example`` domains only). The output is
deterministic (``random.Random(7)``), so re-running the script yields
byte-identical files.

Usage::

    python newsgraph/demo/make_demo.py           # rewrite site/ and validate it
    python newsgraph/demo/make_demo.py --check   # only validate the existing site/
"""
from __future__ import annotations

import json
import random
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
SITE_URL = "https://newsgraph-demo.example"
IMG = "https://images.example"


def slugify(name: str) -> str:
    """The app's topic slug rule: lowercase, runs of non-alphanumerics -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def q(value: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------

TOPICS = [
    # name, parent, keywords, hashtags, shortname
    ("Climate Tech", None, ["climate tech", "decarbonisation", "carbon removal", "adaptation"], ["#ClimateTech"], None),
    ("Energy Storage", "Climate Tech", ["battery", "batteries", "energy storage", "grid storage", "thermal storage"], ["#EnergyStorage", "#Batteries"], "Storage"),
    ("Urban Mobility", None, ["urban mobility", "public transport", "transit", "congestion"], ["#UrbanMobility"], None),
    ("Micromobility", "Urban Mobility", ["e-bike", "e-scooter", "cargo bike", "bike lane", "micromobility"], ["#Micromobility"], None),
    ("Open Data", None, ["open data", "open licence", "dataset", "public data"], ["#OpenData"], None),
    ("Robotics", None, ["robot", "robots", "robotics", "autonomous", "drone"], ["#Robotics"], None),
    ("Space & Satellites", None, ["satellite", "cubesat", "launch", "orbit", "space debris"], ["#Space", "#NewSpace"], "Space"),
    ("Agritech", None, ["agritech", "farming", "precision agriculture", "crop", "livestock"], ["#Agritech", "#FarmTech"], None),
]

# --------------------------------------------------------------------------
# Providers (organizations)
# --------------------------------------------------------------------------

PROVIDERS = {
    "northwind": ("Northwind Daily", "northwind-daily.example",
                  "Northwind Daily is a general technology newsroom covering cities, energy and the businesses that build them."),
    "gridline": ("Gridline Review", "gridline-review.example",
                 "Gridline Review is an independent trade publication about power grids, batteries and the people who run them."),
    "orbital": ("The Orbital Ledger", "orbital-ledger.example",
                "The Orbital Ledger reports on launch, satellites and the economics of the commercial space industry."),
    "transit": ("Transit Tribune", "transit-tribune.example",
                "Transit Tribune covers buses, trains, bikes and street design with a focus on mid-sized cities."),
    "soil": ("Circuit & Soil", "circuit-and-soil.example",
             "Circuit & Soil is a newsletter and website about sensors, software and machines on working farms."),
    "odw": ("Open Data Weekly", "opendata-weekly.example",
            "Open Data Weekly tracks new public datasets, licences and the civic projects built on top of them."),
    "machina": ("Machina Post", "machina-post.example",
                "Machina Post writes about robots in warehouses, hospitals, fields and hobby workshops."),
    "harbor": ("Harborlight News", "harborlight-news.example",
               "Harborlight News is a coastal regional outlet reporting on ports, ferries and the changing shoreline."),
    "fieldnotes": ("Fieldnotes Audio", "fieldnotes-audio.example",
                   "Fieldnotes Audio produces a fortnightly interview podcast about technology outside the big cities."),
    "openfield": ("Openfield Academy", "openfield-academy.example",
                  "Openfield Academy publishes short, practical online courses for engineers and public-sector analysts."),
}


def provider_block(key: str, indent: str = "", logo: bool = True) -> list[str]:
    name, domain, _ = PROVIDERS[key]
    lines = [f"{indent}provider:", f"{indent}  name: {q(name)}", f"{indent}  domain: {domain}"]
    if logo:
        lines += [
            f"{indent}  images:",
            f"{indent}    - url: {q(f'{IMG}/orgs/{domain}-50x50.png')}",
            f"{indent}      width: 50",
            f"{indent}      height: 50",
        ]
    return lines


# --------------------------------------------------------------------------
# Articles
# --------------------------------------------------------------------------
# Each entry: key, publishedDateTime, provider, type, topics, title, excerpt,
# plus optional fields handled in render_article().

A = []


def art(key, when, prov, typ, topics, title, excerpt, **extra):
    A.append(dict(key=key, when=when, prov=prov, type=typ, topics=topics,
                  title=title, excerpt=excerpt, **extra))


art("sodium-winter", "2023-01-12T07:40:00Z", "gridline", "article", ["Energy Storage", "Climate Tech"],
    "Sodium-ion pilot in a Baltic port town survives its first hard winter",
    "A 4 MWh sodium-ion battery installed beside a ferry terminal kept discharging through three weeks of "
    "sub-zero temperatures. Operators say capacity fade was lower than on their lithium iron phosphate "
    "reference unit, although round-trip efficiency lagged by several points.",
    readingTime=5)

art("pothole-records", "2023-02-03T10:15:00Z", "odw", "article", ["Open Data", "Urban Mobility"],
    "City of Marlowe publishes ten years of pothole repair records",
    "The dataset covers more than 180,000 work orders, each with a timestamp, crew size and map point. "
    "Civic developers have already noticed that complaints from hillside districts take almost twice as "
    "long to close as those from the flat centre.")

art("tallow-raise", "2023-03-21T14:05:00Z", "machina", "article", ["Robotics", "Agritech"],
    "Tallow Systems raises $38M to teach warehouse arms to handle soft fruit",
    "The round was led by two agricultural cooperatives rather than venture funds. Tallow says its "
    "suction-and-finger gripper can pack ripe peaches with bruise rates below one percent, a figure the "
    "co-ops plan to verify on their own packing lines this summer.")

art("cargo-bikes-old-towns", "2023-04-09T09:30:00+02:00", "transit", "article", ["Micromobility", "Urban Mobility"],
    "Cargo bikes are quietly replacing delivery vans in old city centres",
    "Narrow lanes, loading bans and rising diesel costs have pushed parcel firms toward electric cargo "
    "bikes and small micro-depots. The change is happening street by street, with very little fanfare.",
    body=[
        "On a Tuesday morning in the old quarter of Vessano, the loudest delivery vehicle is a pallet jack. "
        "The parcel vans that used to idle on the cobbles now stop at a converted garage on the ring road, "
        "where packages are sorted into the boxes of a dozen electric cargo bikes.",
        "Riders say the hardest part of the job is not the hills but the doorways: buildings here were not "
        "designed for deliveries of any kind. Couriers carry a folding trolley for the last twenty metres "
        "and have learned which courtyards are unlocked before nine.",
        "The city did not subsidise the switch. Instead it extended its loading ban by two hours and began "
        "enforcing it with cameras, which made the vans slower than the bikes for most of the day. "
        "Operators now say the micro-depot model pays for itself within three years, provided the rent "
        "on the garage stays low.",
    ],
    tags=["logistics", "last mile"])

art("phone-cubesat", "2023-05-17T16:20:00Z", "orbital", "article", ["Space & Satellites", "Open Data"],
    "Student cubesat built from repurposed phone parts returns its first thermal images",
    "A university team launched a 1U satellite whose camera, gyroscope and processor came out of "
    "second-hand smartphones. The first thermal frames are blurry but usable, and the raw files have been "
    "posted for anyone to download.",
    omit_published=True)

art("flow-battery-factory", "2023-06-02T12:00:00Z", "northwind", "video", ["Energy Storage"],
    "Inside a flow-battery factory: pumps, tanks and a lot of electrolyte",
    "Our video team spent a day on the assembly floor of a vanadium flow-battery maker. Most of the "
    "engineering, it turns out, goes into plumbing rather than chemistry.",
    video="nwd-flow-7Qk2")

art("microbial-sensors", "2023-07-14T06:45:00Z", "soil", "article", ["Agritech", "Climate Tech"],
    "Soil sensors powered by microbes head to field trials",
    "A prototype moisture probe draws its power from a microbial fuel cell buried in the root zone. If it "
    "holds up through a full growing season, growers could scatter hundreds of them without ever "
    "changing a battery.")

art("autonomous-tugs", "2023-08-28T21:10:00Z", "harbor", "article", ["Robotics"],
    "Harbour authority tests autonomous tugs on fog-bound night shifts",
    "Two retrofitted tugboats have been berthing container ships with a pilot watching from shore. The "
    "trial is limited to nights with visibility under a kilometre, which is exactly when crews say the "
    "work is most dangerous.")

art("fieldnotes-41", "2023-09-19T05:00:00Z", "fieldnotes", "podcast", ["Agritech", "Robotics"],
    "Fieldnotes #41: What farmers actually want from robots",
    "",
    episode=41, no_images=True)

art("radar-archive", "2023-10-05T08:00:00Z", "odw", "article", ["Open Data", "Climate Tech"],
    "Regional weather agency stops charging for its historic radar archive",
    "Thirty years of precipitation radar scans, previously sold by the gigabyte, are now free under an "
    "attribution licence. Flood modellers and insurers were the first to start downloading.")

art("brick-heat-battery", "2023-11-22T13:30:00Z", "gridline", "article", ["Energy Storage", "Climate Tech"],
    "Heat batteries made of crushed brick win their first industrial customer",
    "A brewery will store cheap overnight electricity as heat in a tower of recycled brick and draw it "
    "back as steam during the day. The supplier claims the system is cheaper per kilowatt-hour than any "
    "electrochemical battery, as long as the customer needs heat rather than power.",
    body=[
        "Thermal storage is an old idea that suddenly looks commercial. Electricity prices in the region now "
        "swing from almost nothing at night to several times the average in the early evening, and "
        "industrial sites that burn gas for steam have started asking whether they can shift that load.",
        "The installation at the brewery is a steel-clad column about as tall as a three-storey house, "
        "filled with crushed brick sourced from demolition sites. Resistive heaters raise the core to "
        "roughly 900 degrees Celsius; a fan pushes air through it and into a heat exchanger when the "
        "brewhouse needs steam.",
        "The economics depend on one number: how often the core can be charged at low prices. The brewery "
        "expects around 300 charging days a year. Engineers at the site were candid that the first winter "
        "will be the real test, because that is when cheap night-time power is least reliable.",
    ],
    readingTime=6)

art("night-buses", "2023-12-08T19:45:00Z", "transit", "article", ["Urban Mobility"],
    "On-demand night buses: a six-month experiment ends with mixed reviews",
    "Riders loved the door-to-door pickups, but average waiting times crept past twenty minutes as "
    "demand grew. The transport authority says it will keep two fixed routes and drop the app-only zone.",
    published=False)

art("climate-rideshare", "2024-01-16T11:00:00Z", "orbital", "article", ["Space & Satellites", "Climate Tech"],
    "Launch broker books rideshare slots for eleven climate-monitoring satellites",
    "The satellites will measure methane plumes, sea-surface temperature and forest canopy height. "
    "Bundling them onto a single rideshare mission cut launch costs by roughly a third, according to the "
    "broker.")

art("sewer-quadruped", "2024-02-02T15:00:00Z", "machina", "video", ["Robotics"],
    "Watch a four-legged robot inspect a sewer tunnel for six hours",
    "",
    video="mpx-sewer-h8Lz")

art("scooter-parking-format", "2024-02-27T09:20:00Z", "northwind", "article", ["Micromobility", "Open Data"],
    "Scooter operators agree on a shared parking-data format after years of squabbling",
    "Five rental companies will publish their parking zones and live vehicle counts in one open schema. "
    "City officials say the real win is being able to audit pavement clutter without asking each "
    "operator for a spreadsheet.",
    amp=True)

art("vertical-farm-pivot", "2024-03-30T10:10:00Z", "soil", "article", ["Agritech"],
    "Vertical farm startup pivots to selling its climate-control software",
    "After closing two of its three growing facilities, the company says its most valuable asset is the "
    "controller that balances light, humidity and CO2. Greenhouse operators are the new target market.",
    published=False)

art("shore-power-season", "2024-04-18T17:25:00+02:00", "harbor", "article", ["Climate Tech", "Energy Storage"],
    "Shore power for cruise ships: one port's first full season in numbers",
    "Ships plugged in on 142 of 198 calls, avoiding the bulk of their diesel generator hours at berth. A "
    "harbourside battery smoothed the demand peaks when three large vessels connected at once.")

art("second-life-telecom", "2024-05-09T08:35:00Z", "gridline", "article", ["Energy Storage"],
    "Second-life EV battery packs find a home in a rural telecom network",
    "Retired car batteries now back up forty mobile masts across a hilly, outage-prone district. Each "
    "pack is tested and regraded before installation, and the operator says failure rates so far match "
    "new cells.")

art("bike-counters", "2024-06-11T07:00:00Z", "odw", "article", ["Open Data", "Micromobility"],
    "The open bike-counter network that started with a spreadsheet and a soldering iron",
    "Volunteers have installed more than 120 low-cost counters on cycle routes, each reporting to a "
    "public dashboard. Planners now cite the data in council meetings.",
    body=[
        "The first counter was a shoebox taped to a lamp post. Inside was a cheap radar module, a "
        "microcontroller and a power bank that had to be swapped every four days. Its builder, a retired "
        "electrician, wanted to prove that more people cycled up his street than the council assumed.",
        "Three years later the project has a printed enclosure, a solar panel and a volunteer rota for "
        "maintenance. Every counter pushes hourly totals to a public repository, and anyone can download "
        "the full history as CSV.",
        "The numbers are not perfect. Counters under trees undercount in wet weather, and one on a school "
        "route once recorded a flock of geese as a morning rush. But the team publishes a calibration log "
        "next to the data, and that openness, council officers say, is why they trust it.",
        "The group is now working with two neighbouring towns that want to copy the design, and has "
        "written a short guide on how to get permission to fix hardware to street furniture.",
    ],
    tags=["citizen science", "cycling", "sensors"])

art("lander-telemetry", "2024-07-03T18:50:00Z", "orbital", "article", ["Space & Satellites", "Open Data"],
    "Lunar lander team releases its full descent telemetry, failures included",
    "The dataset includes the final ninety seconds before the lander lost its radar lock and tipped onto "
    "its side. Engineers say publishing the failure is the quickest way to get outside eyes on the "
    "guidance software.")

art("hospital-robots-elevators", "2024-08-14T10:30:00Z", "machina", "article", ["Robotics"],
    "Hospital delivery robots are finally getting elevators to talk back",
    "A new interface lets service robots call a lift, check it is empty enough and ride between wards "
    "without a human pressing buttons. It sounds minor; nurses say it saves them dozens of interruptions "
    "a shift.")

art("congestion-lanes", "2024-09-02T06:55:00Z", "transit", "article", ["Urban Mobility", "Micromobility"],
    "Congestion charge revenue paid for 40 km of protected bike lanes, audit finds",
    "The city's auditor traced how the first four years of charge income were spent. Most went to bus "
    "priority and cycling infrastructure, though the report questions the cost of a single bridge "
    "retrofit.",
    omit_published=True)

art("fieldnotes-58", "2024-10-21T05:00:00Z", "fieldnotes", "podcast", ["Space & Satellites"],
    "Fieldnotes #58: The people who count satellites",
    "We talk to two amateur observers who track objects in low Earth orbit from their back gardens, and "
    "ask why their spreadsheets still matter in an age of commercial radar networks.",
    episode=58, no_images=True)

art("battery-tender", "2024-11-12T12:40:00Z", "northwind", "article", ["Energy Storage", "Climate Tech"],
    "Grid operator signs the region's largest battery tender, then asks for a second one",
    "The winning bids cover 1.2 GW of four-hour storage spread across nine substations. Days after "
    "announcing the results, the operator opened a second round aimed at longer-duration technologies.",
    amp=True, heat=-1)

art("mangrove-drones", "2024-12-05T04:15:00Z", "soil", "article", ["Climate Tech", "Agritech", "Robotics"],
    "Drones that seeded mangroves go back to check what actually grew",
    "A coastal restoration group returned with multispectral cameras to a mudflat it seeded by air two "
    "years ago. Survival rates were lower than hoped in the exposed plots but surprisingly high behind "
    "an old sea wall.")

art("electric-ferry", "2025-01-23T08:05:00Z", "harbor", "article", ["Urban Mobility", "Climate Tech"],
    "Electric ferry line doubles its sailings after passengers outpace forecasts",
    "Commuters switched from the coastal road faster than planners expected, and the battery ferry now "
    "runs every twenty minutes at peak. Charging at each end takes just under seven minutes.")

art("ev-charger-map", "2025-02-18T16:00:00Z", "odw", "article", ["Open Data", "Urban Mobility"],
    "Open-source tool maps every public EV charger that actually works",
    "Instead of trusting operator listings, the project combines live status feeds with driver check-ins "
    "and flags chargers that have been silent for more than a day. Roughly one in nine listed points "
    "turned out to be out of service.",
    originalUrl="https://code.example/chargewatch/chargewatch")

art("iron-air", "2025-03-27T14:20:00+01:00", "gridline", "article", ["Energy Storage"],
    "Iron-air batteries: what the first utility-scale install taught its engineers",
    "The system rusts and un-rusts thousands of tonnes of iron pellets to store energy for days rather "
    "than hours. Its first six months brought fewer surprises in the chemistry than in the humidity "
    "control.",
    body=[
        "Multi-day storage has long been the missing piece in grids that lean on wind. Lithium-ion "
        "batteries are excellent at shifting solar output into the evening, but they become expensive when "
        "asked to cover a windless week.",
        "The iron-air site sits on a former coal yard and looks more like a cold store than a power plant: "
        "rows of white enclosures, each holding stacks of cells filled with water-based electrolyte. When "
        "charging, the cells turn rust back into iron; when discharging, they let the iron oxidise again.",
        "Engineers on site said the electrochemistry behaved much as the lab data predicted. What took "
        "more work was keeping the enclosures at the right humidity through a wet spring, and retuning the "
        "software that decides when to charge, because the system is so slow to respond that it has to "
        "plan days ahead using weather forecasts.",
    ],
    readingTime=7)

art("upper-stage-timelapse", "2025-04-15T20:00:00Z", "orbital", "video", ["Space & Satellites"],
    "Timelapse: a reusable upper stage refurbished in nineteen days",
    "",
    video="olv-stage-3mPp", published=False)

art("strawberry-night-shift", "2025-05-30T05:30:00Z", "machina", "article", ["Robotics", "Agritech"],
    "Strawberry-picking robots head into a third season, now with a night shift",
    "Cooler night air means firmer berries and fewer bruises, so growers are letting the robots work "
    "while the human crews sleep. Daytime picking remains mostly manual.")

art("ridehail-data", "2025-06-24T09:00:00Z", "transit", "article", ["Urban Mobility", "Open Data"],
    "Ride-hailing firms must now share anonymised trip data with city planners",
    "A new regional rule requires operators to report trip origins and destinations aggregated to "
    "neighbourhood level. Privacy advocates welcomed the aggregation threshold; the firms say the "
    "reporting cadence is too frequent.")

art("cool-roofs", "2025-07-29T13:15:00Z", "northwind", "article", ["Climate Tech", "Open Data"],
    "A heatwave puts a city's new cool-roof map to the test",
    "Satellite thermal data and building records were combined to rank every roof in the city by how "
    "much heat it throws back into the street. During last week's heatwave, residents used the map to "
    "find the coolest routes to work.",
    originalUrl="https://northwind-daily.example/interactive/cool-roof-map")

art("cattle-collars", "2025-08-19T07:50:00Z", "soil", "article", ["Agritech"],
    "Cattle collars that steer herds with sound cut fencing costs on hill farms",
    "GPS collars play a tone when an animal approaches a virtual boundary and only deliver a mild pulse "
    "if it keeps going. Farmers in the trial say most cattle learn the system within a week.")

art("flood-proof-docks", "2025-09-10T11:40:00Z", "harbor", "article", ["Micromobility", "Climate Tech"],
    "Bike-share docks are redesigned after a season of flooding",
    "Three coastal stations were knocked out for weeks when storm surges soaked their electronics. The "
    "replacements mount the charging hardware on raised posts and can be unbolted before a forecast "
    "surge.")

art("conjunction-feed", "2025-10-28T15:35:00Z", "orbital", "article", ["Space & Satellites", "Open Data"],
    "Space debris tracking startup opens a public conjunction feed",
    "Close approaches between tracked objects will be published with a short delay and a confidence "
    "score. Small satellite operators, who often cannot afford commercial tracking services, are the "
    "intended audience.")

art("frequency-response", "2026-01-14T09:10:00Z", "gridline", "article", ["Energy Storage"],
    "Home batteries earn more from frequency response than from bill savings, study finds",
    "",
    published=False)

art("repair-first-league", "2026-03-05T17:00:00Z", "machina", "article", ["Robotics"],
    "A hobbyist robotics league adopts a repair-first rulebook",
    "Teams now score points for fixing a damaged robot between rounds, and lose them for replacing whole "
    "assemblies. Organisers want competitors to leave with skills rather than a box of spare parts.",
    no_images=True,
    body=[
        "Anyone who has been to a small robot competition knows the sound of a team opening a new kit "
        "because the old drive train stopped working. This season, one regional league decided to make "
        "that expensive habit a little less attractive.",
        "Under the new rules, each team gets a twenty-minute repair window between matches and earns "
        "bonus points for every component it fixes rather than swaps. Judges check a short repair log, and "
        "replacement parts bought during the event count against a budget.",
        "Early results suggest the change works best for younger teams, who spend more time with soldering "
        "irons and less time waiting for parcels. Some veterans grumbled, but the league says entries are "
        "up on last year.",
    ])

art("bike-lane-explainer", "2026-05-20T10:00:00+02:00", "northwind", "video", ["Micromobility", "Urban Mobility"],
    "Explainer: how cities decide where new e-bike lanes go",
    "Traffic counts, collision maps and a surprising amount of local politics. This short explainer "
    "follows one proposed lane from a planner's sketch to a contested council vote.",
    video="nwd-lanes-Vt9c")

art("ag-census", "2026-08-11T08:25:00Z", "odw", "article", ["Open Data", "Agritech"],
    "Agricultural census goes open by default, with field-level privacy safeguards",
    "Crop areas, livestock numbers and irrigation methods will be published for every district, with "
    "small holdings merged until no single farm can be identified. Researchers say the release is the "
    "most detailed the country has produced.",
    omit_published=True)

art("orbital-solar-demo", "2026-10-02T12:00:00Z", "orbital", "article", ["Space & Satellites", "Energy Storage", "Climate Tech"],
    "Orbital solar demonstrator beams its first measurable watts to the ground",
    "The amount of power received was tiny, enough to light a handful of LEDs, but the microwave link "
    "held steady for eleven minutes. The team's next goal is a demonstration that beats the losses of "
    "the conversion chain.",
    amp=True)

# Related lists: local article keys plus a number of external items.
RELATED = {
    "sodium-winter": (["brick-heat-battery", "second-life-telecom"], 1),
    "pothole-records": (["bike-counters"], 2),
    "tallow-raise": (["strawberry-night-shift", "fieldnotes-41"], 1),
    "cargo-bikes-old-towns": (["scooter-parking-format", "congestion-lanes"], 2),
    "phone-cubesat": (["lander-telemetry"], 1),
    "flow-battery-factory": (["iron-air"], 2),
    "microbial-sensors": (["cattle-collars"], 1),
    "radar-archive": (["cool-roofs", "pothole-records"], 1),
    "brick-heat-battery": (["sodium-winter", "iron-air"], 2),
    "climate-rideshare": (["orbital-solar-demo", "conjunction-feed"], 1),
    "scooter-parking-format": (["bike-counters", "flood-proof-docks"], 1),
    "shore-power-season": (["electric-ferry"], 2),
    "second-life-telecom": ([], 3),
    "bike-counters": (["scooter-parking-format", "pothole-records", "congestion-lanes"], 1),
    "lander-telemetry": (["phone-cubesat"], 2),
    "hospital-robots-elevators": (["sewer-quadruped", "repair-first-league"], 1),
    "battery-tender": (["iron-air", "sodium-winter"], 2),
    "mangrove-drones": (["microbial-sensors"], 2),
    "electric-ferry": (["shore-power-season"], 1),
    "ev-charger-map": (["ridehail-data"], 2),
    "iron-air": (["brick-heat-battery", "battery-tender", "flow-battery-factory"], 3),
    "strawberry-night-shift": (["tallow-raise"], 1),
    "cool-roofs": (["radar-archive"], 1),
    "conjunction-feed": ([], 2),
    "ag-census": (["cattle-collars", "radar-archive"], 0),
    "orbital-solar-demo": (["climate-rideshare"], 1),
}

# External related items (fictional outlets, not part of the demo collection).
EXTERNAL = [
    ("Energy Storage", "Utility asks suppliers for batteries that can ride through a full week without wind",
     "A procurement notice sets a minimum duration of 100 hours, ruling out most lithium-ion designs.",
     "Powerline Quarterly", "powerline-quarterly.example", "article"),
    ("Energy Storage", "Fire codes for large batteries are being rewritten, and installers are nervous",
     "Draft rules would require wider spacing between containers and new gas detection on every site.",
     "Installer Journal", "installer-journal.example", "article"),
    ("Energy Storage", "Why battery prices fell again this year, explained in five charts",
     "Cheaper cathode materials and overcapacity at cell factories pushed pack prices to a new low.",
     "Chartroom", "chartroom.example", "article"),
    ("Energy Storage", "A tour of a cell recycling line, from shredder to black mass",
     "We followed a single pallet of scrap cells through a hydrometallurgical recycling plant.",
     "Loop Review", "loop-review.example", "video"),
    ("Climate Tech", "Carbon removal buyers start asking harder questions about permanence",
     "Corporate purchasers now want monitoring plans that extend decades beyond the contract term.",
     "Ledger of Carbon", "ledger-of-carbon.example", "article"),
    ("Climate Tech", "Seaweed farms as carbon sinks: the evidence so far",
     "A review of field studies finds real benefits for local water quality but uncertain long-term storage.",
     "Tidewater Science", "tidewater-science.example", "article"),
    ("Climate Tech", "Industrial heat is the decarbonisation problem nobody talks about",
     "Roughly a fifth of final energy use goes to process heat, and most of it still comes from gas.",
     "Thermal Times", "thermal-times.example", "article"),
    ("Urban Mobility", "Bus rapid transit, ten years on: which corridors delivered",
     "A comparison of twelve corridors shows dedicated lanes mattered more than the vehicles themselves.",
     "Streetwise Planning", "streetwise-planning.example", "article"),
    ("Urban Mobility", "Fare-free transit trials: what the ridership numbers really show",
     "Ridership rose everywhere, but most new trips replaced walking rather than driving.",
     "Commons Transit Lab", "commons-transit.example", "article"),
    ("Micromobility", "E-bike battery fires prompt new storage rules for apartment blocks",
     "Landlords will have to provide ventilated charging rooms for buildings above a certain size.",
     "Metro Housing Wire", "metro-housing.example", "article"),
    ("Micromobility", "Shared e-scooter fleets shrink as operators chase profitability",
     "Fleet sizes fell by a quarter across the region, with operators concentrating on dense centres.",
     "Curbside", "curbside.example", "article"),
    ("Open Data", "How to write a data licence that lawyers and developers can both read",
     "A practical guide to choosing attribution terms, with examples from transport and weather data.",
     "Commons Review", "commons-review.example", "article"),
    ("Open Data", "National statistics office launches a public API with usage quotas",
     "Developers get 10,000 free requests a day, with bulk downloads still available for researchers.",
     "Data Desk", "datadesk.example", "article"),
    ("Open Data", "The hidden cost of dead links in public datasets",
     "Researchers found that nearly a third of dataset links cited in planning documents no longer resolve.",
     "Archive Matters", "archive-matters.example", "article"),
    ("Robotics", "Robot arms learn to fold laundry, slowly",
     "A research lab shows a two-armed robot folding towels at about one per minute, with few mistakes.",
     "Lab Bench", "labbench.example", "video"),
    ("Robotics", "Insurance for autonomous machines is still written case by case",
     "Underwriters say they lack the incident data needed to price robot fleets at scale.",
     "Risk Notes", "risknotes.example", "article"),
    ("Robotics", "Inspection robots move from pilots to purchase orders",
     "Utilities and rail operators are buying crawler and legged robots for routine tunnel checks.",
     "Automation Ledger", "automation-ledger.example", "article"),
    ("Space & Satellites", "Rideshare prices are falling, but the queue for launch slots is growing",
     "Small satellite operators report waits of up to eighteen months for preferred orbits.",
     "Low Orbit Letter", "low-orbit-letter.example", "article"),
    ("Space & Satellites", "Ground station networks open up to university missions",
     "Several operators now offer discounted passes so student teams can download data more often.",
     "Uplink", "uplink.example", "article"),
    ("Space & Satellites", "What a methane-mapping satellite can and cannot see",
     "Cloud cover and small leak sizes limit detection, but large plumes are now routinely attributed.",
     "Skyward Science", "skyward-science.example", "article"),
    ("Agritech", "Precision irrigation pays off fastest on small farms, survey suggests",
     "Growers with under twenty hectares recovered sensor and valve costs in two seasons on average.",
     "Farmgate", "farmgate.example", "article"),
    ("Agritech", "Virtual fencing approved for use on common grazing land",
     "Regulators set conditions on collar design and require a physical fence near public roads.",
     "Upland Review", "upland-review.example", "article"),
    ("Agritech", "Greenhouse growers turn to heat pumps as gas contracts expire",
     "Large glasshouse operators are pairing heat pumps with thermal stores to cut heating costs.",
     "Under Glass", "under-glass.example", "article"),
]

VIDEO_IFRAME = ('<iframe width="800" height="450" frameborder="0" src="https://video.example/embed/{vid}" '
                'allow="accelerometer; encrypted-media; picture-in-picture" allowfullscreen></iframe>')


def date_parts(when: str) -> tuple[str, str, str]:
    return when[0:4], when[5:7], when[8:10]


def web_url(a: dict, issue_counter: dict) -> str:
    y, m, d = date_parts(a["when"])
    s = a["key"]
    domain = PROVIDERS[a["prov"]][1]
    p = a["prov"]
    if p == "northwind":
        return f"https://{domain}/news/{y}/{m}/{s}/"
    if p == "gridline":
        return f"https://{domain}/articles/{s}"
    if p == "orbital":
        return f"https://{domain}/{y}/{m}/{d}/{s}/"
    if p == "transit":
        return f"https://{domain}/stories/{y}{m}{d}-{s}"
    if p == "soil":
        return f"https://{domain}/field/{s}.html"
    if p == "odw":
        issue_counter["n"] += 1
        return f"https://{domain}/issues/{100 + 7 * issue_counter['n']}/{s}"
    if p == "machina":
        return f"https://{domain}/robots/{y}/{s}"
    if p == "harbor":
        return f"https://{domain}/{y}/{m}/{s}"
    if p == "fieldnotes":
        return f"https://{domain}/episodes/{a['episode']}/"
    raise KeyError(p)


def plan(rng: random.Random) -> None:
    """Fill in the derived fields of every article deterministically."""
    counter = {"n": 0}
    for a in A:
        a["webUrl"] = web_url(a, counter)
        a["quality"] = rng.randint(24, 160)
        if "heat" not in a:
            a["heat"] = rng.randint(8, 150)
        y, m, d = date_parts(a["when"])
        a["file"] = f"{y}-{m}-{d}-{a['key']}.md"
        imgs = []
        if not a.get("no_images"):
            sizes = [(1200, 675), (1024, 683), (1280, 720), (800, 533), (1600, 900)]
            n = 2 if rng.random() < 0.3 else 1
            for i in range(n):
                w, h = (1280, 720) if a["type"] == "video" and i == 0 else rng.choice(sizes)
                img = {"url": f"{IMG}/{a['prov']}/{y}/{a['key']}{'-' + str(i + 1) if i else ''}.jpg",
                       "width": w, "height": h,
                       "title": a["title"] if i == 0 else f"{a['title']} (detail)"}
                if a["type"] == "video" or rng.random() < 0.35:
                    img["isCached"] = True
                imgs.append(img)
        a["images"] = imgs


def related_items(a: dict, by_key: dict, rng: random.Random) -> list[dict]:
    keys, n_ext = RELATED.get(a["key"], ([], 0))
    items = []
    for k in keys:
        t = by_key[k]
        assert t is not a and t.get("published", True), (a["key"], k)
        items.append({"title": t["title"], "excerpt": t["excerpt"], "when": t["when"],
                      "webUrl": t["webUrl"], "type": t["type"], "prov": PROVIDERS[t["prov"]][:2],
                      "quality": t["quality"], "images": [
                          {k2: v for k2, v in img.items() if k2 in ("url", "width", "height")}
                          for img in t["images"][:1]]})
    pool = [e for e in EXTERNAL if e[0] in a["topics"]]
    for e in rng.sample(pool, min(n_ext, len(pool))):
        _, title, excerpt, pname, pdomain, typ = e
        ref_y, ref_m, ref_d = (int(x) for x in date_parts(a["when"]))
        day = rng.randint(1, ref_d)
        when = f"{ref_y:04d}-{ref_m:02d}-{day:02d}T{rng.randint(6, 20):02d}:{rng.choice(['00', '15', '30', '45'])}:00Z"
        slug = ""
        for word in slugify(title).split("-"):
            if len(slug) + len(word) + 1 > 60:
                break
            slug = f"{slug}-{word}" if slug else word
        items.append({"title": title, "excerpt": excerpt, "when": when,
                      "webUrl": f"https://{pdomain}/{ref_y}/{slug}", "type": typ,
                      "prov": (pname, pdomain), "quality": rng.randint(15, 90),
                      "images": [{"url": f"{IMG}/ext/{pdomain}/{ref_y}-{slug.split('-')[0]}-{rng.randint(1000, 9999)}.jpg",
                                  "width": rng.choice([640, 800, 960]), "height": rng.choice([360, 450, 540])}]})
    return items


def image_lines(images: list[dict], indent: str, with_title: bool = True) -> list[str]:
    out = []
    for img in images:
        out.append(f"{indent}- url: {q(img['url'])}")
        out.append(f"{indent}  width: {img['width']}")
        out.append(f"{indent}  height: {img['height']}")
        if with_title and "title" in img:
            out.append(f"{indent}  title: {q(img['title'])}")
        if img.get("isCached"):
            out.append(f"{indent}  isCached: true")
    return out


def render_article(a: dict, by_key: dict, rng: random.Random) -> str:
    L = ["---", "category: news", f"title: {q(a['title'])}", f"excerpt: {q(a['excerpt'])}",
         f"publishedDateTime: {a['when']}", f"webUrl: {q(a['webUrl'])}"]
    if a["type"] == "video":
        L.append(f"originalUrl: {q('https://video.example/watch?v=' + a['video'])}")
    elif a["type"] == "podcast":
        episode_url = f"https://podcasts.example/fieldnotes/ep-{a['episode']}"
        L.append(f"originalUrl: {q(episode_url)}")
    elif a.get("originalUrl"):
        L.append(f"originalUrl: {q(a['originalUrl'])}")
    if a.get("amp"):
        amp = a["webUrl"].rstrip("/") + "/amp/"
        L.append(f"ampWebUrl: {q(amp)}")
        L.append(f"cdnAmpWebUrl: {q('https://amp-cache.example/c/s/' + amp.split('://', 1)[1])}")
    L += [f"type: {a['type']}", f"quality: {a['quality']}", f"heat: {a['heat']}"]
    if not a.get("omit_published"):
        L.append(f"published: {'true' if a.get('published', True) else 'false'}")
    if "readingTime" in a:
        L.append(f"readingTime: {a['readingTime']}")
    if "tags" in a:
        L.append("tags: [" + ", ".join(q(t) for t in a["tags"]) + "]")
    L.append("")
    if a["type"] == "video":
        L += [f"featuredContent: {q(VIDEO_IFRAME.format(vid=a['video']))}", ""]
    L += provider_block(a["prov"])
    L += ["", "topics:"] + [f"  - {t}" for t in a["topics"]]
    if a["images"]:
        L += ["", "images:"] + image_lines(a["images"], "  ")
    rel = related_items(a, by_key, rng)
    if rel:
        L += ["", "related:"]
        for r in rel:
            L += [f"  - title: {q(r['title'])}",
                  f"    excerpt: {q(r['excerpt'])}",
                  f"    publishedDateTime: {r['when']}",
                  f"    webUrl: {q(r['webUrl'])}",
                  f"    type: {r['type']}",
                  "    provider:",
                  f"      name: {q(r['prov'][0])}",
                  f"      domain: {r['prov'][1]}",
                  f"    quality: {r['quality']}"]
            if r["images"]:
                L += ["    images:"] + image_lines(r["images"], "      ", with_title=False)
    L.append("---")
    text = "\n".join(L) + "\n"
    if a.get("body"):
        text += "\n" + "\n\n".join(a["body"]) + "\n"
    return text


# --------------------------------------------------------------------------
# Courses
# --------------------------------------------------------------------------

COURSES = [
    dict(slug="reading-battery-datasheets", prov="openfield", topics=["Energy Storage"],
         title="Reading Battery Datasheets Without Getting Fooled",
         excerpt="Learn what cycle life, depth of discharge and C-rate figures really promise, and which footnotes "
                 "change the meaning of a headline number. Includes worked examples from three fictional products.",
         price="Free", length="PT1H20M", ratings=(4.6, 312), levels=["Beginner", "Intermediate"]),
    dict(slug="publishing-usable-open-data", prov="openfield", topics=["Open Data"],
         title="Publishing Open Data People Actually Use",
         excerpt="A course for public-sector teams on choosing formats, writing metadata and picking a licence. "
                 "You will turn a messy spreadsheet into a documented, versioned dataset.",
         price="Free", length="PT2H05M", ratings=(4.8, 529), levels=["Beginner"]),
    dict(slug="mobile-robot-navigation", prov="openfield", topics=["Robotics"],
         title="Mobile Robot Navigation Fundamentals",
         excerpt="Build intuition for localisation, mapping and path planning using a small simulated robot. "
                 "No hardware required, but basic Python is assumed.",
         price="$49", length="PT3H40M", ratings=(4.3, 187), levels=["Intermediate", "Advanced"]),
    dict(slug="satellite-imagery-for-climate", prov="orbital", topics=["Space & Satellites", "Climate Tech"],
         title="Satellite Imagery for Climate Analysis",
         excerpt="Work with free multispectral imagery to measure vegetation change, surface water and urban heat. "
                 "Each lesson ends with a short exercise on a real-world style scene.",
         price="$29", length="PT1H20M", ratings=(4.5, 96), levels=["Intermediate"]),
    dict(slug="planning-streets-for-micromobility", prov="transit", topics=["Micromobility", "Urban Mobility"],
         title="Planning Streets for Bikes and Scooters",
         excerpt="An introduction to lane widths, junction design and parking for shared vehicles, aimed at "
                 "planners and community advocates. Case studies come from three mid-sized cities.",
         price="Free", length="PT55M", ratings=(4.1, 64), levels=["Beginner"]),
]


def render_course(c: dict, rng: random.Random) -> str:
    domain = PROVIDERS[c["prov"]][1]
    avg, count = c["ratings"]
    course_url = f"https://{domain}/courses/{c['slug']}/"
    course_img = f"{IMG}/courses/{c['slug']}.png"
    L = ["---", f"title: {q(c['title'])}", f"excerpt: {q(c['excerpt'])}",
         f"webUrl: {q(course_url)}",
         "type: course", f"price: {q(c['price'])}", f"length: {c['length']}",
         "ratings:", f"  count: {count}", f"  average: {avg}", f"heat: {rng.randint(20, 90)}", ""]
    L += provider_block(c["prov"])
    L += ["", "levels:"] + [f"  - {lv}" for lv in c["levels"]]
    L += ["", "topics:"] + [f"  - {t}" for t in c["topics"]]
    L += ["", "images:",
          f"  - url: {q(course_img)}",
          "    width: 800", "    height: 400", "    isCached: true", "---"]
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def write(rel: str, text: str) -> None:
    path = SITE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def generate() -> None:
    rng = random.Random(7)
    if SITE.exists():
        shutil.rmtree(SITE)
    write("_config.yml",
          "# Bundled demo collection for newsgraph. Generated by newsgraph/demo/make_demo.py;\n"
          "# every provider, place and story in it is fictional.\n\n"
          "title: Newsgraph Demo\n"
          f"url: {SITE_URL}\n"
          'baseurl: ""\n'
          'locale: "en-us"\n'
          "charset: utf-8\n"
          "topic: Climate Tech\n")

    for i, (name, parent, keywords, hashtags, short) in enumerate(TOPICS):
        slug = slugify(name)
        L = ["taxonomy: topic", f"_id: {slug}", f"name: {q(name)}"]
        if short:
            L.append(f"shortname: {q(short)}")
        if parent:
            L.append(f"parent: {q(parent)}")
        L += ["keywords:"] + [f"  - {k}" for k in keywords]
        L += ["hashtags:"] + [f"  - {q(h)}" for h in hashtags]
        write(f"_data/topics/{i:02d}-{slug}.yaml", "\n".join(L) + "\n")

    for key, (name, domain, desc) in PROVIDERS.items():
        L = ["---", "taxonomy: organization", f"_id: {domain}", f"name: {q(name)}", f"domain: {domain}",
             f"description: {q(desc)}", "images:"]
        for size in (50, 400):
            L += [f"  - url: {q(f'{IMG}/orgs/{domain}-{size}x{size}.png')}", f"    width: {size}", f"    height: {size}"]
        L.append("---")
        write(f"_data/organizations/{domain}.md", "\n".join(L) + "\n")

    plan(rng)
    by_key = {a["key"]: a for a in A}
    for a in A:
        write(f"_news/{a['file']}", render_article(a, by_key, rng))

    for c in COURSES:
        write(f"_learning/courses/{c['prov']}-{c['slug']}.md", render_course(c, rng))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def front_matter(path: Path) -> tuple[dict, str]:
    import yaml
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "---", path
    end = lines.index("---", 1)
    data = yaml.safe_load("\n".join(lines[1:end]))
    assert isinstance(data, dict), path
    return data, "\n".join(lines[end + 1:])


def check() -> dict:
    import yaml
    files = sorted(p for p in SITE.rglob("*") if p.is_file())
    config = yaml.safe_load((SITE / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == "Newsgraph Demo" and config["url"], config

    topics = {}
    for p in sorted((SITE / "_data/topics").glob("*.yaml")):
        t = yaml.safe_load(p.read_text(encoding="utf-8"))
        assert t["taxonomy"] == "topic" and t["_id"] == slugify(t["name"]), p
        assert re.fullmatch(r"\d\d-" + re.escape(t["_id"]) + r"\.yaml", p.name), p
        assert t["keywords"] and all(h.startswith("#") for h in t["hashtags"]), p
        topics[t["name"]] = t
    for t in topics.values():
        assert t.get("parent") is None or t["parent"] in topics, t

    orgs = {}
    for p in sorted((SITE / "_data/organizations").glob("*.md")):
        o, body = front_matter(p)
        assert o["taxonomy"] == "organization" and o["_id"] == o["domain"] == p.stem, p
        assert o["name"] and o["description"] and o["images"] and not body.strip(), p
        orgs[o["domain"]] = o

    news = {}
    for p in sorted((SITE / "_news").glob("*.md")):
        a, body = front_matter(p)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d-[a-z0-9-]+\.md", p.name), p
        assert a["category"] == "news" and isinstance(a["title"], str) and isinstance(a["excerpt"], str), p
        assert isinstance(a["quality"], int) and isinstance(a["heat"], int), p
        assert a["provider"]["domain"] in orgs, p
        assert a["webUrl"].startswith(f"https://{a['provider']['domain']}/"), p
        assert 1 <= len(a["topics"]) <= 3 and all(t in topics for t in a["topics"]), p
        assert len(a.get("images") or []) <= 2, p
        assert str(a["publishedDateTime"])[:10] == p.name[:10], p
        assert "2023-01-01" <= str(a["publishedDateTime"])[:10] <= "2026-10-31", p
        a["_body"] = body
        news[a["webUrl"]] = a
    arts = list(news.values())
    assert len(arts) == 40 and len(news) == 40
    assert len({a["title"] for a in arts}) == 40
    excerpts = [a["excerpt"] for a in arts if a["excerpt"]]
    assert len(set(excerpts)) == len(excerpts)

    unpublished = sum(1 for a in arts if a.get("published") is False)
    missing = sum(1 for a in arts if "published" not in a)
    assert unpublished == 4 and missing == 3, (unpublished, missing)
    assert sum(1 for a in arts if a["heat"] == -1) == 1
    assert sum(1 for a in arts if not a.get("images")) == 3
    assert sum(1 for a in arts if a["excerpt"] == "") >= 3
    types = [a["type"] for a in arts]
    assert types.count("podcast") == 2 and types.count("video") >= 3
    assert any("+" in str(a["publishedDateTime"]) or getattr(a["publishedDateTime"], "utcoffset", lambda: None)()
               for a in arts)
    assert any(a.get("ampWebUrl") and a.get("cdnAmpWebUrl") for a in arts)
    assert any(a.get("featuredContent", "").startswith("<iframe") for a in arts)
    assert sum(1 for a in arts if a["_body"].strip()) >= 4
    assert len({a["provider"]["domain"] for a in arts}) >= 8

    with_related = [a for a in arts if a.get("related")]
    assert len(with_related) >= 20
    local = 0
    for a in with_related:
        assert 2 <= len(a["related"]) <= 6, a["webUrl"]
        for r in a["related"]:
            for k in ("title", "excerpt", "publishedDateTime", "webUrl", "type", "provider", "quality"):
                assert k in r, (a["webUrl"], k)
            host = r["webUrl"].split("/")[2]
            if host in orgs:
                assert r["webUrl"] in news and r["webUrl"] != a["webUrl"], r["webUrl"]
                local += 1
    assert local >= 15, local

    courses = sorted((SITE / "_learning/courses").glob("*.md"))
    assert len(courses) == 5
    for p in courses:
        c, _ = front_matter(p)
        assert c["type"] == "course" and c["levels"] and c["ratings"]["count"] > 0, p
        assert all(t in topics for t in c["topics"]), p

    return {"files": len(files), "articles": len(arts), "published_false": unpublished,
            "published_missing": missing, "with_related": len(with_related), "local_related_links": local,
            "topics": len(topics), "organizations": len(orgs), "courses": len(courses)}


if __name__ == "__main__":
    if "--check" not in sys.argv[1:]:
        generate()
    print(json.dumps(check(), indent=2))
