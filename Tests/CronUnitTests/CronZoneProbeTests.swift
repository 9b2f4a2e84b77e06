@testable import BotOpsKit
import Cron
import Foundation
import Remote
import Testing

/// This machine's own shell with `/etc` replaced by a directory the test writes, in a private
/// mount namespace (nothing else on the machine sees it): a real host whose /etc/localtime is
/// what the test makes it, for the one cron zone probe.
struct OwnEtcHost: CommandRunner {
    let etc: URL

    var destination: String { "local (/etc from \(etc.path))" }

    func stream(_ command: String, timeout: Duration?, input: CommandInput, onOutput: @escaping OutputHandler) async throws -> Termination {
        let wrapped = "exec unshare --mount sh -c 'mount --bind \"$1\" /etc && exec sh -c \"$2\"' own-etc \(shellQuote(etc.path)) \(shellQuote(command))"
        return try await LocalHost().stream(wrapped, timeout: timeout, input: input, onOutput: onOutput)
    }

    /// Runs `body` on a host whose /etc/localtime is a copy of `zone`'s file (`copy`) or a link
    /// to it; its /etc is removed afterwards, whether `body` passed or threw. (The bind mount
    /// needs no undoing: it dies with the namespace, i.e. with the command.)
    static func with<T>(zone: String, copy: Bool, _ body: (OwnEtcHost) async throws -> T) async throws -> T {
        let etc = FileManager.default.temporaryDirectory.appendingPathComponent("botops-etc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: etc) }
        let zoneFile = "/usr/share/zoneinfo/" + zone
        let localtime = etc.appendingPathComponent("localtime")
        if copy {
            try FileManager.default.copyItem(atPath: zoneFile, toPath: localtime.path)
        } else {
            try FileManager.default.createSymbolicLink(atPath: localtime.path, withDestinationPath: zoneFile)
        }
        return try await body(OwnEtcHost(etc: etc))
    }
}

/// The host's cron zone comes from the one probe, run on a real shell; a zone it cannot read is a
/// visible warning, never a silent UTC.
@Suite struct CronZoneProbeTests {
    /// Daily at 09:00 in the host's zone (no CRON_TZ), with its log and an output file.
    static let daily = """
        0 9 * * * /opt/bot/job.sh >> logs/daily.log 2>&1
        # botops: expects logs/daily_*.txt
        """
    static let now = utc("2027-01-04T18:00")

    /// A checkout whose log and output were written at 10:00 UTC: after a 09:00 UTC fire, before
    /// a 09:00 New York one (14:00 UTC). The caller removes it.
    static func checkout() throws -> URL {
        let app = FileManager.default.temporaryDirectory.appendingPathComponent("botops-app-\(UUID().uuidString)")
        let logs = app.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let written = Date(timeIntervalSince1970: TimeInterval(utc("2027-01-04T10:00")))
        for name in ["daily.log", "daily_2027-01-04.txt"] {
            let file = logs.appendingPathComponent(name)
            try Data("done\n".utf8).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: written], ofItemAtPath: file.path)
        }
        return app
    }

    /// The one entry's verdict (this target does not see Checks' verdict type).
    func verdict(zone: String, copy: Bool) async throws -> (status: String, lastFire: Int64?, message: String) {
        let app = try Self.checkout()
        defer { try? FileManager.default.removeItem(at: app) }
        let judge = ScheduledRuns(entries: [try entry(Self.daily, name: "daily")], appPath: app.path, now: Self.now)
        let verdicts = try await OwnEtcHost.with(zone: zone, copy: copy) { host in await judge.check(on: host) }
        try #require(verdicts.count == 1)
        return (verdicts[0].status.rawValue, verdicts[0].lastFire, verdicts[0].message)
    }

    /// /etc/localtime a copy (no link, no /etc/timezone): the zone is unknown. Read as UTC, the
    /// 10:00 UTC log would pass a fire that in New York has not happened yet.
    @Test func aCopiedLocaltimeIsAWarningNotUTC() async throws {
        let verdict = try await verdict(zone: "America/New_York", copy: true)
        #expect(verdict.status == "warn", "\(verdict.message)")
        #expect(verdict.lastFire == nil)
        #expect(verdict.message.contains("time zone is unknown") && verdict.message.contains("/etc/localtime is a copy"), "\(verdict.message)")
    }

    /// A link into zoneinfo names the zone: the 09:00 New York fire (14:00 UTC) is judged, and missed.
    @Test func aLinkedLocaltimeIsTheZoneJudged() async throws {
        let newYork = try await verdict(zone: "America/New_York", copy: false)
        #expect(newYork.status == "warn", "\(newYork.message)")
        #expect(utcText(newYork.lastFire) == "2027-01-04T14:00", "\(newYork.message)")
        #expect(newYork.message.contains("missed"), "\(newYork.message)")
        let utcHost = try await verdict(zone: "Etc/UTC", copy: false)
        #expect(utcHost.status == "pass", "\(utcHost.message)")
        #expect(utcText(utcHost.lastFire) == "2027-01-04T09:00")
    }

    /// `botops cron` reads the zone with the same probe and refuses an unknown one.
    @Test func cronCommandsRefuseACopiedLocaltime() async throws {
        let copied: Result<CronHostTime, any Error> = try await OwnEtcHost.with(zone: "America/New_York", copy: true) { host in
            do { return .success(try await CronHost(runner: host, state: StateDirectory(path: "/nonexistent")).readTime()) } catch { return .failure(error) }
        }
        if case .failure(CronHostError.zoneUnknown(let detail)) = copied {
            #expect(detail.contains("/etc/localtime is a copy"), "\(detail)")
        } else {
            Issue.record("not zoneUnknown: \(copied)")
        }
        let linked = try await OwnEtcHost.with(zone: "America/New_York", copy: false) { host in
            try await CronHost(runner: host, state: StateDirectory(path: "/nonexistent")).readTime()
        }
        #expect(linked.zone.identifier == "America/New_York")
    }
}
