import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, FramewireError, isErrorCode, isFramewireError, type ErrorCode } from '../../src/errors.js';

describe('FramewireError', () => {
  it('static factories give the stable code for each common error', () => {
    const cases: [FramewireError, ErrorCode][] = [
      [FramewireError.frameTooLarge(20, 10), ErrorCodes.FRAME_TOO_LARGE],
      [FramewireError.badHeader('h'), ErrorCodes.BAD_HEADER],
      [FramewireError.badMessage('m'), ErrorCodes.BAD_MESSAGE],
      [FramewireError.unexpected('u'), ErrorCodes.UNEXPECTED_MESSAGE],
      [FramewireError.unauthorized('wrong token'), ErrorCodes.UNAUTHORIZED],
      [FramewireError.tooManyClients('t'), ErrorCodes.TOO_MANY_CLIENTS],
      [FramewireError.timeout('t'), ErrorCodes.TIMEOUT],
      [FramewireError.connectionClosed('c'), ErrorCodes.CONNECTION_CLOSED],
      [FramewireError.aborted(), ErrorCodes.ABORTED],
      [FramewireError.badOption('fps', -1, 'a number in [0.1, 1000]'), ErrorCodes.BAD_OPTION],
      [FramewireError.badUrl('u'), ErrorCodes.BAD_URL],
      [FramewireError.notFound('n'), ErrorCodes.NOT_FOUND],
      [FramewireError.sourceFailed('s'), ErrorCodes.SOURCE_FAILED],
    ];
    for (const [err, code] of cases) {
      assert.ok(isFramewireError(err, code), `${err.message} is ${code}`);
      assert.ok(isErrorCode(err.code));
    }
    assert.equal(FramewireError.frameTooLarge(20, 10, 'part').message, 'part of 20 bytes exceeds the limit of 10 bytes');
    assert.equal(FramewireError.frameTooLarge(undefined, 10).message, 'frame exceeds the limit of 10 bytes');
    assert.equal(FramewireError.badOption('fps', -1, 'a number in [0.1, 1000]').message, 'fps must be a number in [0.1, 1000], got -1');
    const cause = new Error('jose');
    assert.equal(FramewireError.unauthorized('token expired', cause).cause, cause);
  });

  it('from() keeps a coded error and makes anything else FW_INTERNAL, warning once with the stack', () => {
    const coded = FramewireError.badHeader('x');
    assert.equal(FramewireError.from(coded, 'here'), coded);
    const warnings: string[] = [];
    const emit = process.emitWarning;
    process.emitWarning = ((w: string | Error) => void warnings.push(String(w))) as typeof process.emitWarning;
    let err: FramewireError;
    try {
      err = FramewireError.from(new TypeError('undefined is not a function'), 'the parser');
    } finally {
      process.emitWarning = emit;
    }
    assert.equal(err.code, ErrorCodes.INTERNAL);
    assert.equal(err.message, 'internal error in the parser: undefined is not a function');
    assert.ok(err.cause instanceof TypeError);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] as string,
      /^internal error in the parser: undefined is not a function\nTypeError: undefined is not a function\n\s+at /,
    );
    assert.equal(FramewireError.from('a string thrown', 'x').message, 'internal error in x: a string thrown');
  });

  it('keeps a code it does not know: typed as an ErrorCode, not one of the known ones', () => {
    const future: ErrorCode = 'FW_FROM_THE_FUTURE';
    const err = new FramewireError(future, 'later');
    assert.equal(err.code, 'FW_FROM_THE_FUTURE');
    assert.equal(isErrorCode(err.code), false);
    assert.ok(isFramewireError(err, 'FW_FROM_THE_FUTURE'));
  });
});
