/**
 * The value of a call that returns one static numeric word (uint<N>, int<N>, bool), read straight from
 * the return data. Detectors read such views at every block; ethers' general decoder builds a Result
 * object per call and cost more than the rest of those detectors together. Decodes as ethers does: the
 * first word, masked to the type's width (sign-extended for int), bool as 1 unless the word is 0.
 */
export function decodeNumericWord(type: string, returnData: string): bigint {
  if (returnData.length < 66 || !/^0x[0-9a-fA-F]{64}/.test(returnData)) {
    throw new Error(`expected a 32-byte ${type} word, got ${returnData.length <= 10 ? JSON.stringify(returnData) : `${(returnData.length - 2) / 2} bytes`}`);
  }
  const word = BigInt(returnData.slice(0, 66));
  if (type === "bool") return word === 0n ? 0n : 1n;
  const match = /^(u?)int(\d*)$/.exec(type);
  if (!match) throw new Error(`not a numeric ABI type: ${type}`);
  const bits = match[2] === "" ? 256 : Number(match[2]);
  return match[1] === "u" ? BigInt.asUintN(bits, word) : BigInt.asIntN(bits, word);
}
