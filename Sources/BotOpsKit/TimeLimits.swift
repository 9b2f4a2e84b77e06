/// The longest time limit botops accepts, from a flag or from botops.yml: anything longer is a
/// typo, and larger numbers would overflow the clock's arithmetic.
public let longestTimeLimit: Duration = .seconds(86_400)

/// A time limit that is not a number of seconds botops can wait for.
public struct InvalidTimeLimit: Error, CustomStringConvertible, ExitCodeProviding {
    public var text: String

    public var description: String {
        "'\(text)' is not a time limit: give a number of seconds from 0.001 to 86400 (one day)"
    }

    public var exitCode: BotOpsExitCode { .usage }
}

/// Parses a flag's "SECONDS" (`60`, `2.5`) into a duration, refusing what cannot be waited for
/// (zero, negative, `inf`, `nan`, more than a day).
public func parseSeconds(_ text: String) throws -> Duration {
    guard let value = Double(text), value.isFinite, value >= 0.001,
          value <= Double(longestTimeLimit.components.seconds) else {
        throw InvalidTimeLimit(text: text)
    }
    return .milliseconds(Int64((value * 1000).rounded()))
}

/// Parses botops.yml's "500ms", "10s", "5m", "1h", at most a day; nil for anything else.
func parseDuration(_ text: String) -> Duration? {
    let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
    let limit = longestTimeLimit.components.seconds * 1000
    for unit in units where text.hasSuffix(unit.suffix) {
        guard let value = Int64(text.dropLast(unit.suffix.count)), value >= 0, value <= limit / unit.milliseconds else {
            return nil
        }
        return .milliseconds(value * unit.milliseconds)
    }
    return nil
}
