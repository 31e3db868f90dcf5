#!/usr/bin/env python3
"""Build the mirror tree `db update --mirror` reads for bench/feeds.sh: for each default feed
URL (from `customs db feeds --format json`), HOST/PATH under ROOT, made from
../shared/data/advisories the way crates/customs/tests/it/feeds.rs makes it (the DSA and DLA
lists, the CVE-list excerpt, Alpine's 3.12 secdb under every release's name, OSV archives of
the PyPA, Go and GHSA records, Red Hat's VEX folder (an archive of the shared CSAF documents,
one of them changed and one deleted since), KEV, the EPSS sample gzipped). Prints the feed
names with data.

usage: feeds.py CUSTOMS SHARED ROOT"""
import glob, gzip, io, json, os, subprocess, sys, tarfile, zipfile

import yaml

customs, shared, root = sys.argv[1:4]
a = os.path.join(shared, "data/advisories")
feeds = json.loads(subprocess.check_output([customs, "db", "feeds", "--format", "json"]))


def osv_zip(records):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in records:
            z.writestr(name, data)
    return buf.getvalue()


def json_files(d):
    return [(os.path.basename(p), open(p, "rb").read())
            for p in sorted(glob.glob(os.path.join(d, "**/*.json"), recursive=True))]


ghsa = {"osv-npm": "npm", "osv-maven": "Maven", "osv-rubygems": "RubyGems",
        "osv-packagist": "Packagist", "osv-nuget": "NuGet"}
groups = []
for f in feeds:
    group, url = f["group"], f["url"]
    if group == "debian":
        src = {"CVE/list": "debian-tracker/format-samples/CVE-list-excerpt",
               "DSA/list": "debian-tracker/data/DSA/list",
               "DLA/list": "debian-tracker/data/DLA/list"}[url.split("data/")[-1]]
        body = open(os.path.join(a, src), "rb").read()
    elif group == "alpine":
        repo = "community" if url.endswith("community.json") else "main"
        body = open(os.path.join(a, f"alpine-secdb-json/312-{repo}.json"), "rb").read()
    elif group == "osv-pypi":
        body = osv_zip([(os.path.basename(p)[:-5] + ".json",
                         json.dumps(yaml.safe_load(open(p)), default=str))
                        for p in sorted(glob.glob(os.path.join(a, "osv-pypa-yaml/vulns/**/*.yaml"),
                                                  recursive=True))])
    elif group == "osv-go":
        body = osv_zip(json_files(os.path.join(a, "osv-go/data/osv")))
    elif group in ghsa:
        body = osv_zip(json_files(os.path.join(a, "ghsa", ghsa[group])))
    elif group == "redhat":
        vex = os.path.join(root, url.split("://", 1)[1])
        docs = os.path.join(a, "redhat-csaf-vex")
        os.makedirs(os.path.join(vex, "2024"), exist_ok=True)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for path, name in [("2022/cve-2022-38752.json", "cve-2022-38752.json"),
                               ("2023/cve-2023-38545.json", "cve-2023-38545.json"),
                               ("2023/cve-2023-4154.json", "cve-2023-4154.json"),
                               ("2024/cve-2024-24786.json", "cve-2024-24786-simple.json")]:
                t.add(os.path.join(docs, name), arcname=path)
        archive = "csaf_vex_2026-11-30.tar.zst"
        open(os.path.join(vex, archive), "wb").write(
            subprocess.run(["zstd", "-q", "-c"], input=buf.getvalue(), stdout=subprocess.PIPE,
                           check=True).stdout)
        open(os.path.join(vex, "archive_latest.txt"), "w").write(archive + "\n")
        open(os.path.join(vex, "2024/cve-2024-24786.json"), "wb").write(
            open(os.path.join(docs, "cve-2024-24786-bad-rpmmod.json"), "rb").read())
        open(os.path.join(vex, "changes.csv"), "w").write(
            '"2024/cve-2024-24786.json","2026-12-01T09:00:00+00:00"\n')
        open(os.path.join(vex, "deletions.csv"), "w").write(
            '"2023/cve-2023-4154.json","2026-12-01T11:00:00+00:00"\n')
        groups.append(group)
        continue
    elif group == "kev":
        body = open(os.path.join(a, "kev/known_exploited_vulnerabilities.json"), "rb").read()
    elif group == "epss":
        body = gzip.compress(open(os.path.join(a, "epss/epss-sample.csv"), "rb").read())
    else:
        continue
    dest = os.path.join(root, url.split("://", 1)[1])
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    open(dest, "wb").write(body)
    if group not in groups:
        groups.append(group)
print(",".join(groups))
