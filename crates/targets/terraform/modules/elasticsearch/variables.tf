variable "name" {
  type        = string
  description = "Name of the Kubernetes objects (a DNS label)."
}

variable "namespace" {
  type        = string
  description = "Namespace of the Kubernetes objects; null: the provider's default namespace."
  default     = null
}

variable "image" {
  type        = string
  description = "Container image."
  default     = "docker.elastic.co/elasticsearch/elasticsearch:8.17.0"
}
