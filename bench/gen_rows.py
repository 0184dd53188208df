#!/usr/bin/env python3
"""Generate a web-form export (CSV) for bench/check.sh, in the columns of
examples/check/lead-mapping.toml. About 5% of rows carry a defect (bad
email, state name, unknown picklist value, text in a number, blank company).
usage: gen_rows.py N [SEED] > rows.csv"""
import csv, random, sys

n = int(sys.argv[1]); rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["Timestamp", "First name", "Last name", "Company", "Email", "Phone", "City", "State", "Country", "How did you hear about us?", "Employees", "Birthday"])
first = ["Ana", "Li", "Omar", "Jane", "Sam", "Kim", "Eva", "Raj", "Zoe", "Max"]
last = ["Ruiz", "Wei", "Haddad", "Doe", "Lee", "Park", "Berg", "Shah", "Klein", "Moreau"]
cities = [("San Francisco", "CA"), ("New York", "NY"), ("Austin", "TX"), ("Boston", "MA"), ("Seattle", "WA"), ("Portland", "OR")]
sources = ["Google", "LinkedIn", "Webinar", "Trade Show", "Conference", "Partner Referral", "Web"]
for i in range(n):
    f, l = rnd.choice(first), rnd.choice(last)
    city, st = rnd.choice(cities)
    email = f"{f.lower()}.{l.lower()}{i}@example.com"
    company = f"{l} {rnd.choice(['Corp', 'LLC', 'GmbH', 'Inc'])}"
    employees = str(rnd.randint(1, 5000))
    source = rnd.choice(sources)
    phone = f"({rnd.randint(200, 999)}) 555-{rnd.randint(0, 9999):04d}"
    birthday = f"{rnd.randint(1, 28):02d}/{rnd.randint(1, 12):02d}/{rnd.randint(1950, 2004)}"
    r = rnd.random()
    if r < 0.01: email = email.replace("@", "")
    elif r < 0.02: st = {"CA": "California", "NY": "New York", "TX": "Texas"}.get(st, st)
    elif r < 0.03: source = "Podcast"
    elif r < 0.04: employees = "a few"
    elif r < 0.05: company = ""
    w.writerow([f"2026-11-28 09:{i % 60:02d}", f, l, company, email, phone, city, st, "USA", source, employees, birthday])
