/// bot-engine's version, printed by `bot-engine --version`: botops's release number, since both
/// are built from one tree, and the git revision built from.
enum BotEngineVersion {
    static let number = "0.16.0"
    static var current: String { "\(number) (\(BuildRevision.value))" }
}

/// The revision `scripts/stamp-revision` writes into the gitignored BuildRevision.generated.swift
/// as a member of `BuildRevision`, which takes precedence over this default (`unknown`).
protocol BuildRevisionDefault {}

extension BuildRevisionDefault {
    static var value: String { "unknown" }
}

enum BuildRevision: BuildRevisionDefault {}
