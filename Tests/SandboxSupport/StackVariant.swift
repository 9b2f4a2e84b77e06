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
        let before = try await apply()
        let result: T
        do {
            result = try await body()
        } catch {
            try await Self.putBack(before, after: error)
            throw error
        }
        try await Self.putBack(before)
        return result
    }

    /// Where `apply` notes origin's main before it commits the variant; removed once the sandbox is
    /// put back. A run killed in between (Ctrl-C of the test run, a crash: no `catch` runs) leaves
    /// it, and the next take of the sandbox lock puts the sandbox back first (`putBackLeftover`),
    /// so no other suite runs on the variant.
    public static var journal: String { Sandbox.directory + "/stack-variant.head" }

    /// The start of a variant commit's message; `putBackLeftover` undoes only such a commit.
    static let subjectPrefix = "sandbox: a user's layout ("

    /// The checkout and origin as found, to put back: origin's main, and the checkout's
    /// origin/main (the variant's pull moves it).
    public struct Found: Sendable {
        let origin: String
        let head: String
        let tracking: String
    }

    /// Puts the stack in this variant and leaves it there (`applied` puts it back). The caller
    /// holds the sandbox lock.
    @discardableResult
    public func apply() async throws -> Found {
        let app = shellQuote(try Sandbox.require().app)
        let origin = try await Self.asBot("git -C \(app) remote get-url origin")
        let found = Found(origin: origin, head: try await Self.asBot("git ls-remote \(shellQuote(origin)) refs/heads/main | cut -f1"),
                          tracking: try await Self.asBot("git -C \(app) rev-parse -q --verify refs/remotes/origin/main || true"))
        guard found.head.count == 40 else { throw TestFailure("origin \(origin) has no main: '\(found.head)'") }
        try (found.head + "\n" + found.tracking + "\n").write(toFile: Self.journal, atomically: true, encoding: .utf8)
        do {
            try await Self.asBot("""
                set -e; work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
                git clone -q \(shellQuote(origin)) "$work"; cd "$work"
                printf '%s' \(shellQuote(try composeFile())) > docker-compose.aws.yml
                git -c user.name=botops-test -c user.email=test@botops.invalid commit -q -am \(shellQuote(Self.subjectPrefix + "\(self))"))
                git push -q origin HEAD:refs/heads/main
                cd \(app) && git pull -q --ff-only origin main
                """)
            try await Self.restack(project)
        } catch {
            try await Self.putBack(found, after: error)
            throw error
        }
        return found
    }

    /// Origin's main back at `found.head`, the checkout on it, the stack in the fixture's layout.
    /// After `failure`, a failing put-back is told with it (never hidden behind it): the sandbox
    /// is then left on the variant, for the next lock take to put back.
    private static func putBack(_ found: Found, after failure: Error? = nil) async throws {
        do {
            let app = shellQuote(try Sandbox.require().app)
            let tracking = found.tracking.isEmpty ? "" : " && git update-ref refs/remotes/origin/main \(shellQuote(found.tracking))"
            try await asBot("git -C \(shellQuote(found.origin)) update-ref refs/heads/main \(shellQuote(found.head)) && cd \(app) && git checkout -q -f -B main \(shellQuote(found.head))" + tracking)
            try await restack(nil)
            try FileManager.default.removeItem(atPath: journal)
        } catch {
            guard let failure else { throw error }
            throw TestFailure("\(failure); then putting the sandbox back from the stack variant failed too: \(error)")
        }
    }

    /// Puts back a variant a killed run left (its `journal` is there): origin's main back from the
    /// variant's commit, the checkout on it, the stack in the fixture's layout. An origin moved on
    /// since (`scripts/sandbox up` commits the fixture's file back over it) is left as it is. The
    /// caller holds the sandbox lock; `SandboxLock` runs this as it is taken.
    public static func putBackLeftover() async throws {
        guard FileManager.default.fileExists(atPath: journal) else { return }
        let noted = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let head = noted[0], tracking = noted.count > 1 ? noted[1] : ""
        let app = shellQuote(try Sandbox.require().app)
        let origin = try await asBot("git -C \(app) remote get-url origin")
        let main = try await asBot("git -C \(shellQuote(origin)) log -1 --format='%H|%P|%s' refs/heads/main").split(separator: "|", maxSplits: 2).map(String.init)
        let variant = main.count == 3 && main[1] == head && main[2].hasPrefix(subjectPrefix)
        if head.count == 40 && (main.first == head || variant) {
            FileHandle.standardError.write(Data("[sandbox] a stack variant left by an interrupted test run: putting the sandbox back (origin's main at \(head))\n".utf8))
            try await putBack(Found(origin: origin, head: head, tracking: tracking))
        } else {
            try FileManager.default.removeItem(atPath: journal)
        }
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
