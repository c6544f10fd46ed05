#!/usr/bin/env python3
"""Writes the Spattn NuGet package (standard library only; `dotnet pack` of Spattn.csproj gives
the same layout where the .NET SDK is installed).

usage: pack_nuget.py SPATTN_DLL LIBSPATTN VERSION LICENSE OUT.nupkg

Layout: lib/netstandard2.0/Spattn.dll (+ Spattn.dll.config, Mono's dllmap, from next to the
DLL), runtimes/linux-x64/native/libspattn.so.<major> (one stripped copy of LIBSPATTN, the name
both loaders look for), LICENSE, Spattn.nuspec (license expression Apache-2.0) and the OPC parts.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

NUSPEC = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>Spattn</id>
    <version>%(version)s</version>
    <authors>spattn</authors>
    <license type="expression">Apache-2.0</license>
    <description>C# bindings of libspattn, the sparse-attention runtime library (config parsing, checkpoint calibration lookup, attention kernels). Bundles libspattn for linux-x64, which needs libyaml and libcjson from the system.</description>
    <tags>sparse-attention attention cuda</tags>
    <dependencies><group targetFramework=".NETStandard2.0" /></dependencies>
  </metadata>
</package>
"""
CONTENT_TYPES = """<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />
  <Default Extension="nuspec" ContentType="application/octet" />
  <Default Extension="dll" ContentType="application/octet" />
  <Default Extension="config" ContentType="application/octet" />
  <Default Extension="0" ContentType="application/octet" />
  <Override PartName="/LICENSE" ContentType="application/octet" />
</Types>
"""
RELS = """<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/Spattn.nuspec" Id="R1" />
</Relationships>
"""


def main(argv):
    if len(argv) != 6:
        sys.stderr.write(__doc__)
        return 2
    dll, library, version, license_file, out = argv[1:]
    major = version.split(".")[0]
    with tempfile.TemporaryDirectory() as scratch:
        native = os.path.join(scratch, "libspattn.so." + major)
        strip = os.environ.get("STRIP", "strip")
        if shutil.which(strip) is None:
            sys.stderr.write("pack_nuget.py: `%s` not found (Debian: binutils)\n" % strip)
            return 1
        subprocess.run([strip, "--strip-unneeded", "-o", native, os.path.realpath(library)], check=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", CONTENT_TYPES)
            z.writestr("_rels/.rels", RELS)
            z.writestr("Spattn.nuspec", NUSPEC % {"version": version})
            z.write(license_file, "LICENSE")
            z.write(dll, "lib/netstandard2.0/Spattn.dll")
            z.write(dll + ".config", "lib/netstandard2.0/Spattn.dll.config")
            z.write(native, "runtimes/linux-x64/native/libspattn.so." + major)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
