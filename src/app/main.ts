/**
 * Entry: the app shell. Views, charts, storage and the engine worker load on demand.
 */
import './components/kv-app.ts';
