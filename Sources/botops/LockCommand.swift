import ArgumentParser
import BotOpsKit
import Foundation

struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Show or break the deploy lock on the host.",
        subcommands: [Status.self, Release.self]
    )

    struct Status: HostCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who holds the deploy lock (command, step, since when), or which deploy was interrupted.",
            discussion: "Exit codes: 0 free, 4 held, 3 host unreachable.")

        @OptionGroup var connection: ConnectionOptions

        func body(_ session: CommandSession) async throws -> ExitStatus {
            let lock = try await session.deployLock()
            switch try await lock.status() {
            case .free(nil):
                print("free")
                return ExitStatus(.success)
            case .free(let interrupted?):
                print("free; the last holder never released it (interrupted): \(interrupted.summary)")
                return ExitStatus(.success)
            case .held(let holder, let stale):
                print("held\(stale ? " (stale)" : ""): \(holder?.summary ?? "by an unknown holder")\(holder.map { "; " + $0.idleText } ?? "")")
                return ExitStatus(.refused)
            }
        }
    }

    struct Release: HostCommand {
        static let configuration = CommandConfiguration(
            abstract: "Break the deploy lock: for a holder that is gone or stuck. Recorded in the audit with the reason.")

        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .long, help: "Break a lock even if its holder still runs.")
        var force = false

        @Option(name: .long, help: "Why, for the audit (required with --force).")
        var reason: String?

        func validate() throws {
            if force, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--force needs --reason TEXT: it goes into the audit")
            }
        }

        func body(_ session: CommandSession) async throws -> ExitStatus {
            let lock = try await session.deployLock()
            let removed: LockHolder?
            if force {
                removed = try await lock.forceRelease()
            } else {
                // One round trip that removes only a gone holder's record: a deploy that takes the
                // lock meanwhile is never touched.
                switch try await lock.releaseIfGone() {
                case .held(let holder, _):
                    print("held: \(holder?.summary ?? "by an unknown holder")\(holder.map { "; " + $0.idleText } ?? ""). If that deploy is gone or stuck: botops lock release --force --reason TEXT (it stops at its next step)")
                    return ExitStatus(.refused)
                case .free(let holder):
                    removed = holder
                }
            }
            let audit = AuditLog(state: session.config.deploy.stateDirectory, runner: try await session.host())
            try await audit.recordLockRelease(removed: removed, reason: reason ?? "clearing an interrupted deploy's record", command: commandLine())
            print(removed.map { "released; it was held by \($0.summary)" } ?? "released (no holder was recorded)")
            return ExitStatus(.success)
        }
    }
}
