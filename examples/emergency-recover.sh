#!/bin/sh
# The runbook's "Emergency Recovery" (if all data collection is broken), rewritten on top of botops.
# Runs from a workstation (botops.yml beside it) or on the host itself with BOTOPS_LOCAL=1.
# Non-interactive; exit status: 0 the host is healthy again, 1 still broken (the output names the
# next command), 3 host unreachable, 4 a deploy holds the lock (nothing was changed).
#
#   runbook step                                             what replaces it
#   1. git fetch && git reset --hard origin/…                recover's files step: local changes saved to
#                                                            state_dir/recover/TIME, tracked files restored
#                                                            from HEAD; HEAD never moves, nothing is discarded
#   2. { crontab -l | grep -v weekly; echo …; } | crontab -  recover's cron step: crontab.d as committed at the
#                                                            host's HEAD, through cron install; your lines kept (or put
#                                                            back from botops's crontab backup after a crontab -r)
#   3. chmod +x weekly_strategy_review.sh                    recover's modes step: modes as git tracks them; logs/
#   4. docker compose … up -d db                             recover's database step: unpause/start, volume checked
#                                                            first, services restarted one at a time
#   5. ./weekly_strategy_review.sh                           the nine checks' report-generation
#   6. ls -lh logs/weekly_review_*.txt | tail -1             the nine checks' report-file, then botops status
#   "If database data lost"                                  recover prints the botops restore command; this
#                                                            script runs it only when RESTORE=1 is set
set -u
where=""
[ "${BOTOPS_LOCAL:-0}" = 1 ] && where="--local"
botops=${BOTOPS:-botops}

# shellcheck disable=SC2086
$botops recover --yes --format json $where > recover.json
status=$?
echo "botops recover exited $status (report: recover.json)" >&2
if [ "$status" -eq 1 ] && [ "${RESTORE:-0}" = 1 ]; then
  restore=$(sed -n 's/.*"next":"\(botops restore [^"]*\)".*/\1/p' recover.json | head -n 1)
  if [ -n "$restore" ]; then
    echo "running: $restore" >&2
    # shellcheck disable=SC2086
    $botops ${restore#botops } $where && $botops recover --yes $where
    status=$?
  fi
fi
# shellcheck disable=SC2086
$botops status $where
exit "$status"
