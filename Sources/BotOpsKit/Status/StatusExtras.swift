import HostCommands
import Remote

/// The host facts only status reads, in one command: the host's clock, the newest report file,
/// free disk under the state directory and the host's own botops.
struct StatusExtras: Sendable {
    struct Facts: Equatable {
        var now: Int
        /// False when the host's clock could not be read: `now` is then this machine's.
        var hostClockRead: Bool = true
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
        let glob = config.checks.reportGlob.hasPrefix("/") ? config.checks.reportGlob : config.path + "/" + config.checks.reportGlob
        return RemoteCommand(ShellScript.lines([
            HostClock.section(marker),
            marker.start("report"),
            NewestFile.script([glob]),
            marker.start("state-disk"),
            // Before the first deploy there is no state directory yet: its disk is then home's.
            "d=\(state); [ -d \"$d\" ] || d=\"$HOME\"",
            FreeDisk.script("\"$d\""),
            marker.start("version"),
            // FIXME: HostInstall reads the same `~/botops/bin/botops --version` with a raw string of its own.
            "if [ -x \(Self.hostBinary) ]; then \(Self.hostBinary) --version 2>&1 | head -n 1; else echo 'not installed'; fi",
            marker.start("end"),
        ]), timeout: timeout)
    }

    /// `localNow`: this machine's clock, the ages' reference when the host's cannot be read (read
    /// as 1970, every report, backup and container would show as 0 s old: a stale report fresh).
    func parse(_ output: String, localNow: Int) -> Facts {
        let sections = marker.split(output)
        let hostNow = try? HostClock.parse(sections: sections)
        let now = hostNow ?? localNow
        let report = NewestFile.parse(sections["report"]?.first(where: { !$0.isEmpty })).map { file in
            HostStatus.FileInfo(path: file.path, modified: Int(file.modified), ageSeconds: max(0, now - Int(file.modified)), size: file.size)
        }
        let version = sections["version"]?.first?.trimmingCharacters(in: .whitespaces)
        return Facts(now: now, hostClockRead: hostNow != nil, newestReport: report,
                     stateDisk: FreeDisk.parse(sections["state-disk"]?.first).map { HostStatus.Disk(name: "state-dir", mount: $0.mount, freeBytes: $0.freeBytes) },
                     hostVersion: version == "not installed" || version?.isEmpty != false ? nil : version)
    }
}
