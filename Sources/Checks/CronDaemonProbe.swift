import HostCommands

/// Whether a cron daemon runs on the host: the one probe the cron-scheduled check and recover
/// share. Prints running, stopped, or unknown when the host has no pgrep to tell.
public enum CronDaemonProbe {
    public static let script: ShellScript = """
        if ! command -v pgrep >/dev/null; then echo unknown; \
        elif pgrep -x cron >/dev/null || pgrep -x crond >/dev/null; then echo running; else echo stopped; fi
        """

    /// The probe's first line: nil when the host could not tell.
    public static func parse(_ line: String?) -> Bool? {
        ["running": true, "stopped": false][line ?? ""]
    }
}
