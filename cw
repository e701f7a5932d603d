#!/usr/bin/env bash
# cw: Commonweal's command line. Finds a JDK 25+ (.mvn/jdk.sh), builds what is missing on first use,
# then runs the Java CLI (org.commonweal.launcher.Cw) with the runtime's JVM flags (framework/jvm.options).
# `./cw --help` and `./cw <command> --help` describe every command. After changing the code, rebuild
# with ./mvnw install -DskipTests (cw builds only what is missing, not what is stale).
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$home/.mvn/jdk.sh"
commonweal_find_jdk || exit 1

launcher="$home/framework/launcher/target"
jar="$launcher/org.commonweal.launcher-0.1.0-SNAPSHOT.jar"
dist="$home/distributions/dev/target/dist/feature.json"

if [ ! -f "$jar" ] || [ ! -d "$launcher/lib" ] || [ ! -f "$dist" ]; then
  echo "cw: first use: building Commonweal (./mvnw install -DskipTests; about a minute, longer while Maven downloads)..." >&2
  # Progress: one line per module as Maven reaches it.
  log=$(mktemp "${TMPDIR:-/tmp}/cw-build.XXXXXX")
  "$home/mvnw" -f "$home/pom.xml" -B -ntp install -DskipTests 2>&1 | tee "$log" \
    | grep --line-buffered -E '^\[INFO\] Building |BUILD|ERROR' >&2 || true
  if [ ! -f "$jar" ] || [ ! -f "$dist" ]; then
    echo "cw: error: the build failed; its full log is $log. Fix what it reports, then run ./cw again." >&2
    exit 1
  fi
  rm -f "$log"
fi

exec "$JAVA_HOME/bin/java" @"$home/framework/jvm.options" -Dcommonweal.home="$home" \
  -cp "$jar:$launcher/lib/*" org.commonweal.launcher.Cw "$@"
