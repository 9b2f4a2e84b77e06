// The helpers every cron test shares (CronTestSupport), for every file of this target.
@_exported import CronTestSupport
