import Foundation
import Remote
import SandboxSupport
import Testing

/// How the sandbox's stack is laid out. The default (the fixture as committed) keeps the db's data
/// on an external volume, gives every service a healthcheck and runs as the compose project
/// derived from the checkout's directory. The user's host differs in all three.
struct SandboxLayout: Sendable {
    /// nil: the project compose derives from the checkout's directory.
    var project: String?
    /// `pg_data: {}`, which in project bottrader-aws is the same volume as the default's external one.
    var namedVolume: Bool
    var appHealthchecks: Bool

    /// The user's host: plain named volume `pg_data` in project bottrader-aws (a checkout directory
    /// named otherwise), app services without healthchecks.
    static let userHost = SandboxLayout(project: "bottrader-aws", namedVolume: true, appHealthchecks: false)

    /// The fixture's compose file in this layout, with `lines` added to the sighook service.
    func composeFile(sighook lines: [String] = []) throws -> String {
        var text = try DeploySandbox.composeFile(sighook: lines)
        if !appHealthchecks {
            let healthcheck = #"    healthcheck: {test: ["CMD", "test", "-f", "/tmp/healthy"], interval: 1s, timeout: 2s, retries: 10}"# + "\n"
            try #require(text.contains(healthcheck))
            text = text.replacing(healthcheck, with: "")
        }
        if namedVolume {
            let external = "  pg_data:\n    external: true\n    name: bottrader-aws_pg_data\n"
            try #require(text.contains(external) && project == "bottrader-aws", "a named pg_data is bottrader-aws_pg_data only in project bottrader-aws")
            text = text.replacing(external, with: "  pg_data: {}\n")
        }
        return text
    }

    /// `scripts/sandbox restack`: the stack from the checkout's compose file as `project`.
    static func restack(project: String?) async throws {
        let process = Process()
        process.executableURL = DeploySandbox.repositoryRoot.appendingPathComponent("scripts/sandbox")
        process.arguments = ["restack"] + (project.map { [$0] } ?? [])
        let status = try await withCheckedThrowingContinuation { (done: CheckedContinuation<Int32, Error>) in
            process.terminationHandler = { done.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { done.resume(throwing: error) }
        }
        guard status == 0 else { throw TestFailure("scripts/sandbox restack \(project ?? "") exited \(status)") }
    }
}

extension DeploySandbox {
    /// Commits the layout's compose file on main, brings the checkout there and the stack up in it.
    func apply(_ layout: SandboxLayout) async throws {
        try await commit(on: "main", files: ["docker-compose.aws.yml": try layout.composeFile()], message: "sandbox: the user's host layout")
        try await sh("cd \(shellQuote(sandbox.app)) && git pull -q --ff-only origin main")
        try await SandboxLayout.restack(project: layout.project)
    }

    /// The compose project the running db container belongs to.
    func runningProject() async throws -> String {
        try await sh(#"docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' db"#)
    }
}
