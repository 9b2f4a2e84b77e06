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
            HostProgramVersion.section(marker, HostInstall.binaryPath),
            marker.start("end"),
        ]), timeout: timeout)
    }

    /// The host's botops as status shows it: its version, or why it does not run (so it differs).
    static func shown(_ version: HostProgramVersion) -> String? {
        switch version {
        case .notInstalled: nil
        case .version(let line): line.isEmpty ? nil : line
        case .failed(let status, let output): "fails (exit \(status)): \(output.split(separator: "\n").first ?? "")"
        }
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
        let version = try? HostProgramVersion.parse(sections: sections)
        return Facts(now: now, hostClockRead: hostNow != nil, newestReport: report,
                     stateDisk: FreeDisk.parse(sections["state-disk"]?.first).map { HostStatus.Disk(name: "state-dir", mount: $0.mount, freeBytes: $0.freeBytes) },
                     hostVersion: version.flatMap(Self.shown))
    }
}
