/// A time around an entry's fire when deploys and crontab changes must not start.
public struct BlackoutWindow: Equatable, Sendable {
    public let entry: String
    /// The fire the window surrounds (seconds since 1970, UTC).
    public let fire: Int64
    public let start: Int64
    /// When it is clear again; overlapping windows of later fires are merged in.
    public let end: Int64
    public let zone: CronZone

    /// `weekly-strategy-review fires at 2026-11-30 09:00 America/Los_Angeles (17:00 UTC); clear at 09:10 (17:10 UTC)`
    public var description: String {
        let fireLocal = zone.local(at: fire)
        let endLocal = zone.local(at: end)
        let fireUTC = CronZone.utc.local(at: fire)
        let endUTC = CronZone.utc.local(at: end)
        return "\(entry) fires at \(fireLocal) \(zone.identifier) (\(fireUTC) UTC); clear at \(endLocal) \(zone.identifier) (\(endUTC) UTC)"
    }
}

extension CronEntry {
    /// The blackout window containing `instant`, if the entry has one and `instant` is inside it.
    public func blackout(at instant: Int64, hostZone: CronZone) -> BlackoutWindow? {
        guard let width = blackoutSeconds else { return nil }
        let zone = self.zone ?? hostZone
        // The fire of a window holding `instant` lies within `width` of it, on either side.
        guard let fire = schedule.next(after: instant - width - 1, in: zone), fire <= instant + width else { return nil }
        var end = fire + width
        var lastFire = fire
        // Fires closer together than the window (every 5 minutes, blackout 10m) chain into one.
        while let following = schedule.next(after: lastFire, in: zone), following - width <= end {
            end = following + width
            lastFire = following
            if end - instant > 86_400 * 7 { break }
        }
        return BlackoutWindow(entry: name, fire: fire, start: fire - width, end: end, zone: zone)
    }
}

/// The first window (by start) among `entries` that holds `instant`.
public func activeBlackout(_ entries: [CronEntry], at instant: Int64, hostZone: CronZone) -> BlackoutWindow? {
    entries.compactMap { $0.blackout(at: instant, hostZone: hostZone) }.min { $0.start < $1.start }
}
