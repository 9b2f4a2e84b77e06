import HostState

/// The command a leftover deploy-lock holder record names (every command that takes the lock
/// writes one), with what its interruption may have left and what to run about it: recover
/// repairs services, files and cron, but finishes or undoes none of these commands.
struct InterruptedCommand: Equatable {
    /// "a deploy", "a cron install", "botops frobnicate" for a command this botops does not know.
    let name: String
    let advice: String

    init(_ holder: LockHolder) {
        let words = holder.command.split(separator: " ").map(String.init)
        // The holder's command line starts with botops (any path to it), then the subcommand.
        let rest = words.first.map { $0.hasSuffix("botops") } == true ? Array(words.dropFirst()) : words
        let subcommand = rest.first ?? "?"
        let again = "run it again: \(holder.command)"
        switch subcommand {
        case "deploy", "rollback":
            name = "a \(subcommand)"
            advice = "services it left stopped are restarted by this recover; botops status then shows the release each service runs: deploy again, or botops rollback --to previous"
        case "install-host":
            name = "an install-host"
            advice = "the files it copies to ~/botops on the host may be partly copied (each file whole, old or new): \(again)"
        case "backup":
            name = "a backup"
            advice = "that backup was not recorded and is not kept (botops backups lists those that are): \(again)"
        case "restore":
            name = "a restore"
            advice = "the ledger may be the old or the restored one, and the database may still be closed to connections: botops history shows the step it reached; check with botops verify, and if the restore is wanted, \(again)"
        case "recover":
            name = "a recover"
            advice = "this recover repeats its repairs"
        case "cron":
            name = "a cron \(rest.dropFirst().first ?? "change")"
            advice = "crontab installs a crontab whole, so it is the old or the new one: botops cron diff shows which, and botops cron restore puts back the one saved before the change"
        default:
            name = "botops \(subcommand)"
            advice = again
        }
    }

    /// The diagnosis line.
    func broken(_ holder: LockHolder) -> String {
        "\(name) was interrupted and never released the lock: \(holder.summary). \(advice.prefix(1).uppercased() + advice.dropFirst())."
    }
}
