import Cron
import Foundation

/// `rollback --plan cron`: crontab.d as committed at the previous verified release (or a given
/// revision) installed like `cron install --ref REV`; the services, checkout and images are not touched.
public enum CronRollback {
    /// The revision to take crontab.d from: `to` when given, else the release `rollback --to
    /// previous` would return `services` to, judged from the image each service runs (they must agree).
    public static func revision(to: String?, services: [String], deployer: () async throws -> Deployer) async throws -> String {
        if let to, to != "previous" { return to }
        return try await deployer().previousRelease(of: services).revision
    }

    /// What the command reports, as deploy events (text or `--format json`): the install's report
    /// line by line, then how it ended.
    public static func events(revision: String, services: [String], destination: String, report: CronReport) -> [DeployEvent] {
        let lines = report.render().split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        let summary = "crontab.d as committed at \(revision.prefix(12)) is installed; the checkout, containers and images were not touched."
        return [.started(action: "rollback --plan cron", services: services, destination: destination)]
            + lines.map { .output(step: "cron install", line: $0) }
            + [.finished(DeployOutcome(result: .success, summary: summary, advice: nil, exitCode: .success))]
    }
}
