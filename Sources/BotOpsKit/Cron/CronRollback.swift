import Cron
import Foundation
import HostCommands
import Remote

/// `rollback --plan cron` cannot tell which release to go back to.
public struct CronRollbackError: Error, Equatable, CustomStringConvertible, ExitCodeProviding {
    public var problem: String

    public var description: String { "\(problem) Nothing was changed." }
    public var exitCode: BotOpsExitCode { .refused }
}

/// `rollback --plan cron`: crontab.d as committed at the previous verified release (or a given
/// revision) installed like `cron install --ref REV`; the services, checkout and images are not touched.
public enum CronRollback {
    /// The revision to take crontab.d from: `to` when given, else the previous verified release of
    /// `services` as `releases.json` on the host records it (they must agree).
    public static func revision(to: String?, services: [String], host: any CommandRunner, state: StateDirectory) async throws -> String {
        if let to, to != "previous" { return to }
        // FIXME: releases.json is also read inside deploy's preflight probe; and "previous" here is
        // the verified release before the newest (plan B follows the deploy just made), not judged
        // from the image each service runs as `rollback --to previous` is.
        let file = state.file("releases.json")
        let text = try await host.run(RemoteCommand("cat \(file) 2>/dev/null || echo '{}'", timeout: .seconds(30))).result.stdoutText
        let releases = try Releases.parse(text, file: state.path + "/releases.json")
        let previous = Dictionary(uniqueKeysWithValues: services.map { service -> (String, String?) in
            let list = releases.services[service, default: []]
            guard let newest = list.last else { return (service, nil) }
            return (service, list.dropLast().last { $0.isVerified && $0.revision != newest.revision }?.revision)
        })
        let revisions = Set(previous.values.compactMap { $0 })
        guard revisions.count == 1, let revision = revisions.first, !previous.values.contains(nil) else {
            let known = services.map { "\($0): \(previous[$0].flatMap { $0.map { String($0.prefix(12)) } } ?? "none")" }.joined(separator: ", ")
            throw CronRollbackError(problem: "cannot tell the previous verified release for \(services.joined(separator: ", ")) (\(known), from \(state.path)/releases.json). Pass --to REV (the revision whose crontab.d to install).")
        }
        return revision
    }
}
