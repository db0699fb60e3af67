//! Reading weights and writing results: safetensors (PyTorch `state_dict` names), NumPy `.npy`, and
//! ONNX models.

pub mod npy;
pub mod onnx;
pub mod onnx_graph;
pub mod safetensors;
pub mod spec;
