import { closeSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * Streams JSON text into a file through a buffer, so a run of a million requests is
 * written without building one giant string. Writes go to `FILE.partial` and are
 * renamed into place at the end: an interrupted run never leaves a truncated FILE
 * (and never clobbers an older complete one).
 */
export class JsonFileWriter {
  private readonly fd: number;
  private buf: string[] = [];
  private size = 0;
  private readonly tmp: string;
  constructor(private readonly path: string) {
    this.tmp = `${path}.partial`;
    this.fd = openSync(this.tmp, 'w');
  }
  write(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join(''));
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}
