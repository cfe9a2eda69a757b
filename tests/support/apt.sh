# shellcheck shell=bash
# Sourced by the install-*.sh scripts: installs Debian packages, refreshing the package lists
# once per run, and waiting for another apt or dpkg to finish instead of failing on its lock
# (several installers, or a person, may be at it on one machine).
export DEBIAN_FRONTEND=noninteractive
apt_options=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

apt_install() { # PACKAGE...
  if [ -z "${SWITCHBOARD_APT_UPDATED:-}" ]; then
    apt-get "${apt_options[@]}" update -qq
    export SWITCHBOARD_APT_UPDATED=1
  fi
  apt-get "${apt_options[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}
