#!/usr/bin/env python3
"""Write a large jar of nested jars for the bounded-memory test (tests/it/java.rs).

OUT holds PARTS inner jars under BOOT-INF/lib/, stored as Spring Boot stores them. Each inner
jar holds its own pom.properties, a few deflated class-like entries, and PART_MIB MiB of
incompressible data (stored), so the whole is PARTS x PART_MIB MiB. The fourth inner jar
nests one more jar (lib/log4j-core-2.14.1.jar, with log4j's pom.properties), three levels
deep. Each inner jar is built in a temporary file beside OUT and copied in, so no archive is
ever held in memory.

Prints JSON: {"packages": [{"name", "version", "at"}]} where "at" is the evidence path inside
OUT ("" for OUT itself, "!/BOOT-INF/lib/part-3.jar" for an inner one).
"""
import argparse
import json
import os
import zipfile


def props(group, artifact, version):
    return f"groupId={group}\nartifactId={artifact}\nversion={version}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--parts", type=int, default=10)
    ap.add_argument("--part-mib", type=int, default=100)
    a = ap.parse_args()
    packages = []
    tmp = a.out + ".part"
    with zipfile.ZipFile(a.out, "w", zipfile.ZIP_STORED, allowZip64=True) as outer:
        outer.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nStart-Class: gen.App\r\n\r\n")
        for i in range(a.parts):
            name = f"part-{i}.jar"
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as inner:
                inner.writestr(f"META-INF/maven/gen.big/part-{i}/pom.properties", props("gen.big", f"part-{i}", f"1.{i}"))
                for k in range(50):
                    inner.writestr(f"gen/part{i}/C{k}.class", b"\xca\xfe\xba\xbe" + bytes(range(256)) * 40)
                blob_info = zipfile.ZipInfo("data/blob.bin")
                blob_info.compress_type = zipfile.ZIP_STORED
                with inner.open(blob_info, "w", force_zip64=True) as blob:
                    for _ in range(a.part_mib):
                        blob.write(os.urandom(1 << 20))
                if i == 3:
                    nested = tmp + ".nested"
                    with zipfile.ZipFile(nested, "w", zipfile.ZIP_DEFLATED) as n:
                        n.writestr("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                                   props("org.apache.logging.log4j", "log4j-core", "2.14.1"))
                        n.writestr("org/apache/logging/log4j/core/lookup/JndiLookup.class", b"\xca\xfe\xba\xbe")
                    inner.write(nested, "lib/log4j-core-2.14.1.jar", compress_type=zipfile.ZIP_STORED)
                    os.remove(nested)
                    packages.append({"name": "org.apache.logging.log4j:log4j-core", "version": "2.14.1",
                                     "at": f"!/BOOT-INF/lib/{name}!/lib/log4j-core-2.14.1.jar"})
            outer.write(tmp, f"BOOT-INF/lib/{name}", compress_type=zipfile.ZIP_STORED)
            os.remove(tmp)
            packages.append({"name": f"gen.big:part-{i}", "version": f"1.{i}", "at": f"!/BOOT-INF/lib/{name}"})
    print(json.dumps({"packages": packages}))


if __name__ == "__main__":
    main()
