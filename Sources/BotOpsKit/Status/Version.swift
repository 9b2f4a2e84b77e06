/// This botops's version, printed by `botops --version` and compared with the host's by `status`.
public enum BotOpsVersion {
    public static let current = "0.16.0"
}
