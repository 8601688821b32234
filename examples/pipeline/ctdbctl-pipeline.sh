#!/bin/sh
# ctdbctl-pipeline.sh: the GitOps steps for ctdbctl cluster files, for any CI system.
#
#   ctdbctl-pipeline.sh mr   [FILE...]   merge/pull request: validate, then plan against the base
#                                        revision (the config the cluster runs). Exit 0 when every
#                                        plan is fine, with or without changes.
#   ctdbctl-pipeline.sh main [FILE...]   default branch: validate every file, then apply each one
#                                        and wait until every node runs it.
#
# FILE: cluster files, relative to the current directory (the checkout). Default: $CTDBCTL_FILES
# (separated by spaces), else cluster.yaml.
#
# Environment (empty counts as unset):
#   CTDBCTL                how to run ctdbctl (default: ctdbctl). Split on blanks, no quoting or
#                          globbing: "npx --no-install ctdbctl", "node /opt/ctdbctl/bin/run.js".
#   CTDBCTL_BASE (or BASE) mr: the Git revision the cluster runs, planned against as
#                          git:$CTDBCTL_BASE (origin/main, a commit). Must be in the local history.
#   CTDBCTL_CONFIG         main: the cluster file through which apply reaches the live cluster
#                          (spec.nats: servers, credentials, TLS). Default: the file being applied.
#   CTDBCTL_NATS           main: NATS URL(s), comma-separated, overriding the file's servers.
#   CTDBCTL_WAIT           main: seconds to wait for convergence (apply's default: 60).
#   CTDBCTL_ALLOW_MISSING  main: 1 or true: succeed when the only laggards are DISCONNECTED nodes.
#   CTDBCTL_MESSAGE        main: the message recorded with the revision.
#                          Default: "<subject of HEAD> (<short sha>)".
#   CTDBCTL_AUTHOR         main: the author recorded. Default: the author of HEAD.
#   CTDBCTL_SUMMARY_FILE   a file to append a Markdown summary to. Default: $GITHUB_STEP_SUMMARY.
#
# NATS credentials and TLS files come from spec.nats of the cluster file (absolute paths): run the
# main job where they exist, or point CTDBCTL_CONFIG at a CI copy of the cluster file whose
# spec.nats names files the job writes from its secrets.
#
# Exit status: 0 success; 1 an invalid file, an unsafe plan, a refused apply or any other error;
# 2 main: written but some node did not converge within CTDBCTL_WAIT; 64 usage.

set -eu
# No pathname expansion anywhere: $CTDBCTL and $CTDBCTL_FILES are split on blanks, never globbed.
set -f

prog=ctdbctl-pipeline.sh

usage() {
  printf 'usage: %s mr|main [FILE...]\n' "$prog" >&2
  exit 64
}

die() {
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

[ "$#" -ge 1 ] || usage
mode=$1
shift
case $mode in
  mr | main) ;;
  -h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
  *) usage ;;
esac

if [ "$#" -eq 0 ]; then
  # Unquoted on purpose: a list separated by blanks (globbing is off).
  # shellcheck disable=SC2086
  set -- ${CTDBCTL_FILES:-cluster.yaml}
fi
[ "$#" -ge 1 ] || die 'no cluster file given'

CTDBCTL=${CTDBCTL:-ctdbctl}
# shellcheck disable=SC2086
first_word() { printf '%s' "$1"; }
# shellcheck disable=SC2086
cli_cmd=$(first_word $CTDBCTL)
[ -n "$cli_cmd" ] || die 'CTDBCTL is blank'
command -v "$cli_cmd" >/dev/null 2>&1 || die "cannot run ctdbctl: \"$cli_cmd\" not found (set CTDBCTL, e.g. CTDBCTL='npx --no-install ctdbctl')"

run_ctdbctl() {
  # shellcheck disable=SC2086
  $CTDBCTL "$@"
}

summary_file=${CTDBCTL_SUMMARY_FILE:-${GITHUB_STEP_SUMMARY:-}}
md() {
  if [ -n "$summary_file" ]; then printf '%s\n' "$@" >>"$summary_file"; fi
}
md_output() { # TITLE FILE: a collapsed block with a command's output
  if [ -n "$summary_file" ]; then
    {
      printf '<details><summary>%s</summary>\n\n```\n' "$1"
      cat "$2"
      printf '```\n\n</details>\n\n'
    } >>"$summary_file"
  fi
}

out=$(mktemp "${TMPDIR:-/tmp}/ctdbctl-pipeline.XXXXXX")
trap 'rm -f "$out"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A file name ctdbctl could take for a flag or for standard input ("-") gets a ./ prefix.
safe_path() {
  case $1 in
    -*) printf './%s' "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

# The last line of $out matching the extended regular expression $1 (empty when none).
last_match() {
  grep -E "$1" "$out" | tail -n 1 || true
}

results=''
add_result() { # STATUS FILE TEXT
  results="$results$(printf '  %-8s %s: %s' "$1" "$2" "$3")
"
}

# validate FILE: prints the report; returns validate's exit status (0 valid, 1 invalid, 2 unreadable).
validate_file() {
  printf '==> ctdbctl validate %s\n' "$1"
  vrc=0
  run_ctdbctl validate --no-local-checks "$(safe_path "$1")" >"$out" 2>&1 || vrc=$?
  cat "$out"
  if [ "$vrc" -ne 0 ]; then
    first=$(grep -E ': error: ' "$out" | head -n 1 | sed 's/^.*: error: //' || true)
    count=$(last_match 'checked: ' | sed -n 's/^.*invalid (\([0-9][0-9]*\) errors\{0,1\},.*$/\1/p')
    if [ "${count:-0}" -gt 1 ]; then first="$first (and $((count - 1)) more)"; fi
    add_result INVALID "$1" "${first:-invalid}"
    md_output "$1: invalid" "$out"
  fi
  return "$vrc"
}

mode_mr() {
  base=${CTDBCTL_BASE:-${BASE:-}}
  [ -n "$base" ] || die 'mr: set CTDBCTL_BASE (or BASE) to the Git revision the cluster runs, e.g. origin/main'
  git rev-parse --verify --quiet "$base^{commit}" >/dev/null ||
    die "mr: base revision \"$base\" is not in the local Git history (fetch it first, e.g. with a full clone)"
  failed=0
  changed=0
  unchanged=0
  md "### ctdbctl plan against \`$base\`" ''
  for file in "$@"; do
    if ! validate_file "$file"; then
      failed=$((failed + 1))
      printf '\n'
      continue
    fi
    printf '\n==> ctdbctl plan %s --against git:%s\n' "$file" "$base"
    prc=0
    run_ctdbctl plan "$(safe_path "$file")" "--against=git:$base" --detailed-exitcode --no-color >"$out" 2>&1 || prc=$?
    cat "$out"
    printf '\n'
    unsafe=$(last_match '^[0-9]+ unsafe changes?:' | sed 's/:.*//')
    totals=$(last_match '^Plan: ' | sed 's/^Plan: //; s/\.$//')
    case $prc in
      0)
        unchanged=$((unchanged + 1))
        add_result ok "$file" 'no changes'
        md_output "$file: no changes" "$out"
        ;;
      2)
        changed=$((changed + 1))
        add_result changes "$file" "${totals:-changes}"
        md_output "$file: $totals" "$out"
        ;;
      *)
        failed=$((failed + 1))
        if [ -n "$unsafe" ]; then
          add_result UNSAFE "$file" "$unsafe, cannot be applied"
          md_output "$file: $unsafe" "$out"
        else
          add_result ERROR "$file" "$(last_match '^Error: ' | sed 's/^Error: //')"
          md_output "$file: error" "$out"
        fi
        ;;
    esac
  done
  printf '==> Summary (against git:%s)\n%s' "$base" "$results"
  if [ "$failed" -gt 0 ]; then
    printf 'Result: FAILED: %d of %d file(s) invalid, unsafe or in error.\n' "$failed" "$#"
    md '' "**Failed**: $failed of $# file(s) invalid, unsafe or in error." ''
    return 1
  fi
  printf 'Result: OK: %d file(s) with changes, %d unchanged.\n' "$changed" "$unchanged"
  md '' "**OK**: $changed file(s) with changes, $unchanged unchanged." ''
}

mode_main() {
  if [ -n "${CTDBCTL_MESSAGE:-}" ]; then
    message=$CTDBCTL_MESSAGE
  else
    message=$(git log -1 --format='%s (%h)') || die 'main: cannot read the HEAD commit (set CTDBCTL_MESSAGE outside Git)'
  fi
  if [ -n "${CTDBCTL_AUTHOR:-}" ]; then
    author=$CTDBCTL_AUTHOR
  else
    author=$(git log -1 --format='%an <%ae>') || die 'main: cannot read the HEAD commit (set CTDBCTL_AUTHOR outside Git)'
  fi
  # Everything is validated before anything is applied.
  invalid=0
  for file in "$@"; do
    validate_file "$file" || invalid=$((invalid + 1))
    printf '\n'
  done
  if [ "$invalid" -gt 0 ]; then
    printf '==> Summary\n%sResult: FAILED: %d invalid file(s), nothing applied.\n' "$results" "$invalid"
    return 1
  fi
  md '### ctdbctl apply' ''
  for file in "$@"; do
    printf '==> ctdbctl apply %s\n' "$file"
    arc=0
    apply_file "$file" >"$out" 2>&1 || arc=$?
    cat "$out"
    printf '\n'
    case $arc in
      0)
        add_result applied "$file" "$(last_match '^Apply complete|^Nothing to apply' | sed 's/\.$//')"
        md_output "$file: applied" "$out"
        ;;
      *)
        add_result FAILED "$file" "exit $arc: $(last_match '^Error: ' | sed 's/^Error: //')"
        md_output "$file: failed (exit $arc)" "$out"
        printf '==> Summary\n%sResult: FAILED: stopped at %s; later files not applied.\n' "$results" "$file"
        return "$arc"
        ;;
    esac
  done
  printf '==> Summary\n%sResult: OK: %d file(s) applied.\n' "$results" "$#"
}

apply_file() {
  set -- apply "$(safe_path "$1")" --yes --no-color "--message=$message" "--author=$author" "--config=${CTDBCTL_CONFIG:-$1}"
  if [ -n "${CTDBCTL_NATS:-}" ]; then set -- "$@" "--nats=$CTDBCTL_NATS"; fi
  if [ -n "${CTDBCTL_WAIT:-}" ]; then set -- "$@" "--wait=$CTDBCTL_WAIT"; fi
  case ${CTDBCTL_ALLOW_MISSING:-} in
    1 | true | yes) set -- "$@" --allow-missing ;;
  esac
  run_ctdbctl "$@"
}

case $mode in
  mr) mode_mr "$@" ;;
  main) mode_main "$@" ;;
esac
