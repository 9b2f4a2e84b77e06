/// What the checks need from botops.yml (`path`, `checks:`, `database:`).
public struct CheckSettings: Sendable, Equatable {
    public var appPath: String
    public var reportScript: String
    public var queries: [String]
    public var reportGlob: String
    public var linkageWindow: String
    public var minLinkedTrades: Int
    /// Percent of filled trades that should be linked; below it trade-linkage warns. Nil: off.
    public var minLinkageRate: Double?
    public var databaseContainer: String
    public var databaseUser: String
    public var databaseName: String
    /// Upper bound for each command a check runs; the report script gets this long too.
    public var commandTimeout: Duration

    public init(appPath: String, reportScript: String, queries: [String], reportGlob: String,
                linkageWindow: String, minLinkedTrades: Int, minLinkageRate: Double? = nil, databaseContainer: String,
                databaseUser: String, databaseName: String, commandTimeout: Duration = .seconds(60)) {
        self.appPath = appPath
        self.reportScript = reportScript
        self.queries = queries
        self.reportGlob = reportGlob
        self.linkageWindow = linkageWindow
        self.minLinkedTrades = minLinkedTrades
        self.minLinkageRate = minLinkageRate
        self.databaseContainer = databaseContainer
        self.databaseUser = databaseUser
        self.databaseName = databaseName
        self.commandTimeout = commandTimeout
    }

    func path(_ relative: String) -> String { appPath + "/" + relative }
}
