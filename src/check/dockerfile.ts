/**
 * dockerfile-ast, used as a real Dockerfile parser for the instructions block.
 *
 * Its instructions tokenise their arguments on every call, and the parser
 * itself calls that three times per RUN while building one (heredoc scan,
 * JSON-form scan, flags). Instructions are immutable once parsed, so the
 * tokens are remembered per instruction; callers get a copy because
 * dockerfile-ast's own flag handling shifts the array it is given. This
 * takes a quarter off check's time on large repositories (npm run bench).
 */
import { DockerfileParser, Instruction, type Argument, type Dockerfile } from 'dockerfile-ast';

const tokens = new WeakMap<Instruction, Argument[]>();
type WithRaw = { getRawArguments(this: Instruction): Argument[] };
const proto = Instruction.prototype as unknown as WithRaw;
const tokenise = proto.getRawArguments;
if (!(tokenise as { envctlMemo?: true }).envctlMemo) {
  const memo = function (this: Instruction): Argument[] {
    let args = tokens.get(this);
    if (!args) {
      args = tokenise.call(this);
      tokens.set(this, args);
    }
    return args.slice();
  };
  (memo as { envctlMemo?: true }).envctlMemo = true;
  proto.getRawArguments = memo;
}

export function parseDockerfile(text: string): Dockerfile {
  return DockerfileParser.parse(text);
}
