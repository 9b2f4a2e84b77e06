import HostCommands
import Remote

/// The host facts only status reads, in one command: the host's clock, the newest report file,
/// free disk under the state directory and the host's own botops.
struct StatusExtras: Sendable {
    struct Facts: Equatable {
        var now: Int
        var newestReport: HostStatus.FileInfo?
        var stateDisk: HostStatus.Disk?
        /// Nil when botops is not installed on the host.
        var hostVersion: String?
    }

    let config: BotOpsConfig
    let marker = SectionMarker()

    /// `~/botops/bin/botops`, where `install-host` puts botops on the host.
    static let hostBinary: ShellScript = "\"$HOME\"/botops/bin/botops"

    func command(timeout: Duration) -> RemoteCommand {
        let state = config.deploy.stateDirectory.script
        let glob: ShellScript = "\(glob: config.checks.reportGlob.hasPrefix("/") ? config.checks.reportGlob : config.path + "/" + config.checks.reportGlob)"
        return RemoteCommand(ShellScript.lines([
            marker.start("now"), "date +%s",
            marker.start("report"),
            "for f in \(glob); do [ -f \"$f\" ] && stat -c '%Y %s %n' -- \"$f\"; done 2>/dev/null | sort -n | tail -n 1",
            marker.start("state-disk"),
            "d=\(state); [ -d \"$d\" ] || d=\"$HOME\"; df -Pk \"$d\" | tail -n +2 | awk '{print $4 \" \" $6}'",
            marker.start("version"),
            "if [ -x \(Self.hostBinary) ]; then \(Self.hostBinary) --version 2>&1 | head -n 1; else echo 'not installed'; fi",
            marker.start("end"),
        ]), timeout: timeout)
    }

    func parse(_ output: String) -> Facts {
        let sections = marker.split(output)
        let now = sections["now"]?.first.flatMap { Int($0) } ?? 0
        var report: HostStatus.FileInfo?
        if let line = sections["report"]?.first(where: { !$0.isEmpty }) {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            if fields.count == 3, let modified = Int(fields[0]), let size = Int64(fields[1]) {
                report = HostStatus.FileInfo(path: fields[2], modified: modified, ageSeconds: max(0, now - modified), size: size)
            }
        }
        let version = sections["version"]?.first?.trimmingCharacters(in: .whitespaces)
        return Facts(now: now, newestReport: report,
                     stateDisk: sections["state-disk"]?.first.flatMap { parseDiskLine($0, name: "state-dir") },
                     hostVersion: version == "not installed" || version?.isEmpty != false ? nil : version)
    }
}
