/// This botops's version, printed by `botops --version` and compared with the host's by `status`.
public enum BotOpsVersion {
    public static let number = "0.16.0"
    /// The git revision built from (`-dirty` when tracked files differed from it), or `unknown`.
    public static var revision: String { BuildRevision.value }
    /// What `--version` prints, so `status` tells two builds of one version apart.
    public static var current: String { "\(number) (\(revision))" }
}

/// The revision `scripts/stamp-revision` writes into the gitignored BuildRevision.generated.swift
/// as a member of `BuildRevision`, which takes precedence over this default; without that file
/// (a fresh clone built by hand) the build still compiles and says `unknown`.
protocol BuildRevisionDefault {}

extension BuildRevisionDefault {
    static var value: String { "unknown" }
}

enum BuildRevision: BuildRevisionDefault {}
