// solidity-coverage: measure the modules, not the test doubles. contracts/mocks/ holds tokens and baseline vaults
// for tests and the gas bench; contracts/test/ holds vulnerable contracts for the guardian's tests.
module.exports = {
  skipFiles: ["mocks/", "test/"],
  istanbulReporter: ["text", "text-summary", "json-summary", "html"],
};
