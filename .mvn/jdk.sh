# Finds a JDK 25 or newer and exports JAVA_HOME to it. POSIX sh; sourced by ./mvnw and ./cw so that
# both work on a fresh machine whose default java is older. Order: $JAVA_HOME if it is 25+, else the
# newest 25+ JDK in the system's JVM folder ($COMMONWEAL_JVM_DIR, default /usr/lib/jvm, plus macOS's).

COMMONWEAL_MIN_JDK=25

# Prints the feature release (e.g. 25) of the JDK at $1; fails if $1 is not a JDK.
commonweal_jdk_release() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  _cw_v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  [ -n "$_cw_v" ] || return 1
  echo "$_cw_v"
}

commonweal_find_jdk() {
  _cw_seen=""
  if [ -n "${JAVA_HOME-}" ]; then
    if _cw_v=$(commonweal_jdk_release "$JAVA_HOME") && [ "$_cw_v" -ge "$COMMONWEAL_MIN_JDK" ]; then
      export JAVA_HOME
      return 0
    fi
    _cw_seen="JAVA_HOME=$JAVA_HOME is ${_cw_v:-not a JDK}; "
  fi
  _cw_best=""
  _cw_bestv=0
  for _cw_d in "${COMMONWEAL_JVM_DIR:-/usr/lib/jvm}"/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    _cw_v=$(commonweal_jdk_release "$_cw_d") || continue
    if [ "$_cw_v" -ge "$COMMONWEAL_MIN_JDK" ] && [ "$_cw_v" -gt "$_cw_bestv" ]; then
      _cw_best=$_cw_d
      _cw_bestv=$_cw_v
    fi
  done
  if [ -n "$_cw_best" ]; then
    JAVA_HOME=$_cw_best
    export JAVA_HOME
    return 0
  fi
  cat >&2 <<MSG
error: Commonweal needs a JDK $COMMONWEAL_MIN_JDK or newer, and none was found
  (${_cw_seen}looked in ${COMMONWEAL_JVM_DIR:-/usr/lib/jvm}).
  Fix: install one, for example 'apt-get install temurin-25-jdk' (Adoptium's apt repository)
  or 'apt-get install openjdk-25-jdk', then run this command again, or set JAVA_HOME to its folder.
MSG
  return 1
}
