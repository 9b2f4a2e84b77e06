import Foundation
import Remote

/// The sandbox's stack in a layout a user's host may have instead of the fixture's (db data on an
/// external volume, every service with a healthcheck, the compose project derived from the
/// checkout's directory). Committed on the origin's main and checked out, as a user's compose file
/// is, so recover's "save local changes" and status see a clean checkout.
/// FIXME: DeployTests' SandboxLayout builds the same kind of file over git through ssh; one helper
/// would serve both once that target may depend on this one's shape.
public struct StackVariant: Sendable, CustomStringConvertible {
    /// `pg_data: {}` in compose project bottrader-aws: the same docker volume as the external one.
    public var namedVolume: Bool
    /// Whether any service, the db included, declares a healthcheck.
    public var healthchecks: Bool

    public init(namedVolume: Bool, healthchecks: Bool) {
        self.namedVolume = namedVolume
        self.healthchecks = healthchecks
    }

    /// The user's own file: the db's data on a plain named volume, and no healthcheck anywhere.
    public static let userHost = StackVariant(namedVolume: true, healthchecks: false)

    public var description: String {
        (namedVolume ? "named volume" : "external volume") + (healthchecks ? ", healthchecks" : ", no healthchecks")
    }

    /// The compose project the stack runs as in this variant (nil: the derived one).
    public var project: String? { namedVolume ? "bottrader-aws" : nil }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The fixture's compose file in this variant.
    public func composeFile() throws -> String {
        var text = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("scripts/sandbox-app/docker-compose.aws.yml"), encoding: .utf8)
        if !healthchecks {
            let app = #"    healthcheck: {test: ["CMD", "test", "-f", "/tmp/healthy"], interval: 1s, timeout: 2s, retries: 10}"# + "\n"
            let db = #/    healthcheck:\n      test: \["CMD", "pg_isready"[^\n]*\n(      [^\n]*\n)*/#
            guard text.contains(app), text.contains(db) else { throw TestFailure("the fixture's compose file has other healthchecks than StackVariant removes") }
            text = text.replacing(app, with: "").replacing(db, with: "")
        }
        if namedVolume {
            let external = "  pg_data:\n    external: true\n    name: bottrader-aws_pg_data\n"
            guard text.contains(external) else { throw TestFailure("the fixture's compose file no longer declares pg_data external") }
            text = text.replacing(external, with: "  pg_data: {}\n")
        }
        return text
    }

    /// Runs `body` with the stack in this variant, then puts the sandbox back as found (origin's
    /// main, the checkout on it, the stack in the fixture's layout), also when `body` fails. The
    /// caller holds the sandbox lock.
    public func applied<T>(_ body: () async throws -> T) async throws -> T {
        let sandbox = try Sandbox.require()
        let app = shellQuote(sandbox.app)
        let origin = try await Self.asBot("git -C \(app) remote get-url origin")
        let head = try await Self.asBot("git ls-remote \(shellQuote(origin)) refs/heads/main | cut -f1")
        let result: T
        do {
            try await Self.asBot("""
                set -e; work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
                git clone -q \(shellQuote(origin)) "$work"; cd "$work"
                printf '%s' \(shellQuote(try composeFile())) > docker-compose.aws.yml
                git -c user.name=botops-test -c user.email=test@botops.invalid commit -q -am \(shellQuote("sandbox: a user's layout (\(self))"))
                git push -q origin HEAD:refs/heads/main
                cd \(app) && git pull -q --ff-only origin main
                """)
            try await Self.restack(project)
            result = try await body()
        } catch {
            try? await Self.putBack(origin: origin, head: head, app: app)
            throw error
        }
        try await Self.putBack(origin: origin, head: head, app: app)
        return result
    }

    private static func putBack(origin: String, head: String, app: String) async throws {
        try await asBot("git -C \(shellQuote(origin)) update-ref refs/heads/main \(shellQuote(head)) && cd \(app) && git checkout -q -f -B main \(shellQuote(head))")
        try await restack(nil)
    }

    /// `scripts/sandbox restack [PROJECT]`: the stack from the checkout's compose file as PROJECT.
    public static func restack(_ project: String?) async throws {
        let script = shellQuote(repositoryRoot.appendingPathComponent("scripts/sandbox").path)
        try await run("\(script) restack \(project.map(shellQuote) ?? "")")
    }

    /// As the checkout's owner: git refuses a repository another user owns.
    @discardableResult
    static func asBot(_ script: String) async throws -> String {
        try await run(shellCommand(["runuser", "-u", try Sandbox.require().value("SANDBOX_USER"), "--", "sh", "-c", script]))
    }

    @discardableResult
    static func run(_ script: String) async throws -> String {
        let result = try await LocalHost().run(script, timeout: .seconds(300))
        guard result.succeeded else { throw TestFailure("`\(script.prefix(300))`: \(result.termination): \(result.stderrText.suffix(800))") }
        return result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
