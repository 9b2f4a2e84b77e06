import ArgumentParser
import Foundation

/// `2026-11-30T17:05:00Z` → seconds since 1970.
func parseInstant(_ text: String) throws -> Int64 {
    guard let date = ISO8601DateFormatter().date(from: text) else {
        throw ValidationError("'\(text)' is not an ISO-8601 UTC instant such as 2026-11-30T17:05:00Z")
    }
    return Int64(date.timeIntervalSince1970)
}
