// Node entry (`pkg/node`): ready on require, no init step.
export * from './api';
